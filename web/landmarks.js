// The landmarks in the order of the engine's results, and what each one is, for the hover
// text: the 25 canonical ones, then the 14 extended ones that the extended model adds (a
// result has 25 or 39). Tracing lines join landmarks; the measurements themselves come from the
// server (/v1/analyze), never from here.
"use strict";

const LANDMARKS = [
  ["S", "Sella", "Centre of the sella turcica (pituitary fossa)."],
  ["N", "Nasion", "Most anterior point of the frontonasal suture."],
  ["Or", "Orbitale", "Lowest point on the inferior margin of the orbit."],
  ["Po", "Porion", "Highest point of the external auditory meatus."],
  ["ANS", "Anterior nasal spine", "Tip of the anterior nasal spine of the maxilla."],
  ["PNS", "Posterior nasal spine", "Tip of the posterior spine of the palatine bone."],
  ["A", "Subspinale (A point)", "Deepest point of the anterior maxillary concavity, between ANS and the alveolar crest."],
  ["B", "Supramentale (B point)", "Deepest point of the anterior mandibular concavity, between the alveolar crest and pogonion."],
  ["Pog", "Pogonion", "Most anterior point of the bony chin."],
  ["Gn", "Gnathion", "Midway between pogonion and menton on the symphysis outline."],
  ["Me", "Menton", "Lowest point of the mandibular symphysis."],
  ["Go", "Gonion", "Most posterior-inferior point on the angle of the mandible."],
  ["Ar", "Articulare", "Where the posterior border of the ramus crosses the inferior surface of the cranial base."],
  ["Co", "Condylion", "Most posterior-superior point of the mandibular condyle."],
  ["U1_tip", "Upper incisor tip", "Incisal edge of the most prominent upper central incisor."],
  ["U1_root", "Upper incisor apex", "Root apex of the upper central incisor."],
  ["L1_tip", "Lower incisor tip", "Incisal edge of the most prominent lower central incisor."],
  ["L1_root", "Lower incisor apex", "Root apex of the lower central incisor."],
  ["UL", "Labrale superius", "Most anterior point of the upper lip."],
  ["LL", "Labrale inferius", "Most anterior point of the lower lip."],
  ["Pm", "Soft-tissue suprapogonion", "Deepest point of the soft-tissue concavity between the lower lip and the chin."],
  ["Ba", "Basion", "Lowest point on the anterior margin of the foramen magnum."],
  ["Pog_soft", "Soft-tissue pogonion", "Most anterior point of the soft-tissue chin."],
  ["Sn", "Subnasale", "Where the columella of the nose meets the upper lip."],
  ["Prn", "Pronasale", "Most anterior point of the tip of the nose."],
  // Extended (CL-Detection 2023 landmarks beyond the 25).
  ["D", "Symphysis centre (D)", "Centre of the bony symphysis of the mandible."],
  ["Cm", "Columella", "Lowest point of the columella, where the nose's lower border turns toward the lip."],
  ["Ptm", "Pterygomaxillary fissure", "Lowest point of the teardrop-shaped pterygomaxillary fissure."],
  ["PT", "PT point", "Posterior-superior point of the pterygomaxillary fissure at the foramen rotundum (Ricketts)."],
  ["Bo", "Bolton point", "Highest point of the retrocondylar notch of the occipital bone."],
  ["UL_border", "Upper lip border (UL′)", "Mucocutaneous border of the upper lip."],
  ["LL_border", "Lower lip border (LL′)", "Mucocutaneous border of the lower lip."],
  ["Gn_soft", "Soft-tissue gnathion", "Midway between soft-tissue pogonion and soft-tissue menton."],
  ["Me_soft", "Soft-tissue menton", "Lowest point of the soft-tissue chin."],
  ["G_soft", "Soft-tissue glabella", "Most prominent point of the soft-tissue forehead."],
  ["N_soft", "Soft-tissue nasion", "Deepest point of the soft tissue between forehead and nose."],
  ["C_point", "Cervical point", "Innermost point between the submental area and the neck."],
  ["U6", "Upper first molar", "Mesial contact point of the upper first molar (occlusal plane)."],
  ["L6", "Lower first molar", "Mesial contact point of the lower first molar (occlusal plane)."],
].map(([name, title, definition], index) => ({ index, name, title, definition }));

// Reference lines drawn on the tracing: [label, from, to].
const TRACING_LINES = [
  ["S–N", "S", "N"],
  ["N–A", "N", "A"],
  ["N–B", "N", "B"],
  ["FH", "Po", "Or"],
  ["MP", "Go", "Me"],
  ["E-line", "Prn", "Pog_soft"],
  ["Palatal", "ANS", "PNS"],
  ["U1 axis", "U1_tip", "U1_root"],
  ["L1 axis", "L1_tip", "L1_root"],
  ["Ramus", "Ar", "Go"],
  ["Face", "N", "Pog"],
  ["Facial axis", "PT", "Gn"],  // drawn when the result has the extended landmarks
];
