// The analyses: one table of measurement definitions, evaluated in the profile frame.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "analysis/geometry.hpp"
#include "cephtrace/analysis.hpp"

namespace cephtrace {
namespace {

using namespace analysis_detail;
// Landmarks in the profile frame, by traced index (canonical, then extended); only those a
// definition `needs` are valid.
using Points = std::array<Pt, kNumTraced>;

// Proffit's mean S–N length, the scale of last resort (as in `cephtrace evaluate`).
constexpr double kMeanSnMm = 71.0;

enum class Kind { Angle, Length, Percent };

struct Definition {
  std::string_view key, analysis, description;
  Kind kind;
  std::vector<int> needs;
  double norm_mean, norm_sd;
  std::string_view norm_source;
  std::string_view above, below;     // interpretation beyond +1 SD / −1 SD
  double (*compute)(const Points&);  // degrees, pixels or percent
  std::string_view within = "within norm";
};

// --- Shared constructions (profile frame: anterior +x, superior +y) ------------------------

Pt fh(const Points& p) { return p[lm::Or] - p[lm::Po]; }  // Frankfort horizontal, forwards
Pt mp(const Points& p) { return p[lm::Me] - p[lm::Go]; }  // mandibular plane, forwards
Pt u1_axis(const Points& p) { return p[lm::U1_tip] - p[lm::U1_root]; }  // points down
Pt l1_axis(const Points& p) { return p[lm::L1_tip] - p[lm::L1_root]; }  // points up
// Occlusal plane (Downs): from the midpoint of the first molars' contact to the midpoint of the
// incisor overlap, forwards. Wits' functional occlusal plane runs through the premolar and
// molar cusps; with no premolar landmark, this plane stands in for it (docs/analyses.md).
Pt occlusal(const Points& p) {
  return (p[lm::U1_tip] + p[lm::L1_tip]) * 0.5 - (p[lm::U6] + p[lm::L6]) * 0.5;
}

double sna(const Points& p) { return angle_at(p[lm::S], p[lm::N], p[lm::A]); }
double snb(const Points& p) { return angle_at(p[lm::S], p[lm::N], p[lm::B]); }
// FH to mandibular plane, positive when the plane descends anteriorly.
double fh_mp(const Points& p) { return clockwise_angle(fh(p), mp(p)); }

using namespace lm;

// One measurement per block reads better than one field per line:
// clang-format off
const std::vector<Definition>& definitions() {
  static const std::vector<Definition> defs = {
      // --- Steiner ---------------------------------------------------------------------------
      {"SNA", "Steiner", "angle S–N–A", Kind::Angle, {S, N, A}, 82, 2, "Steiner 1953",
       "prognathic maxilla", "retrognathic maxilla", sna},
      {"SNB", "Steiner", "angle S–N–B", Kind::Angle, {S, N, B}, 80, 2, "Steiner 1953",
       "prognathic mandible", "retrognathic mandible", snb},
      {"ANB", "Steiner", "SNA − SNB", Kind::Angle, {S, N, A, B}, 2, 2, "Steiner 1953",
       "skeletal Class II tendency", "skeletal Class III tendency",
       [](const Points& p) { return sna(p) - snb(p); }, "skeletal Class I"},
      {"SN-MP", "Steiner", "S–N to mandibular plane (Go–Me)", Kind::Angle, {S, N, Go, Me}, 32, 5,
       "Steiner 1953", "steep mandibular plane (hyperdivergent)",
       "flat mandibular plane (hypodivergent)",
       [](const Points& p) { return clockwise_angle(p[N] - p[S], mp(p)); }},
      {"U1-SN", "Steiner", "upper incisor axis to S–N", Kind::Angle, {S, N, U1_tip, U1_root}, 103, 6,
       "Steiner 1953", "proclined upper incisors", "retroclined upper incisors",
       // 90° when the axis is perpendicular to S–N, more when the crown tips forward.
       [](const Points& p) { return angle_between(u1_axis(p), p[S] - p[N]); }},
      {"U1-NA_deg", "Steiner", "upper incisor axis to N–A", Kind::Angle, {N, A, U1_tip, U1_root}, 22,
       6, "Steiner 1953", "proclined upper incisors", "retroclined upper incisors",
       [](const Points& p) { return signed_angle(p[A] - p[N], u1_axis(p)); }},
      {"U1-NA_mm", "Steiner", "upper incisor tip to N–A line (+ anterior)", Kind::Length,
       {N, A, U1_tip}, 4, 3, "Steiner 1953", "protrusive upper incisors", "retrusive upper incisors",
       [](const Points& p) { return distance_anterior(p[N], p[A], p[U1_tip]); }},
      {"L1-NB_deg", "Steiner", "lower incisor axis to N–B", Kind::Angle, {N, B, L1_tip, L1_root}, 25,
       6, "Steiner 1953", "proclined lower incisors", "retroclined lower incisors",
       [](const Points& p) { return clockwise_angle(p[N] - p[B], l1_axis(p)); }},
      {"L1-NB_mm", "Steiner", "lower incisor tip to N–B line (+ anterior)", Kind::Length,
       {N, B, L1_tip}, 4, 3, "Steiner 1953", "protrusive lower incisors", "retrusive lower incisors",
       [](const Points& p) { return distance_anterior(p[N], p[B], p[L1_tip]); }},
      {"interincisal_angle", "Steiner", "upper to lower incisor axis",
       Kind::Angle, {U1_tip, U1_root, L1_tip, L1_root}, 131, 6, "Steiner 1953",
       "retroclined incisors", "proclined incisors",
       [](const Points& p) { return angle_between(-u1_axis(p), -l1_axis(p)); }},
      {"SN-OP", "Steiner", "S–N to occlusal plane (molar to incisor overlap)", Kind::Angle,
       {S, N, U6, L6, U1_tip, L1_tip}, 14, 4, "Steiner 1953", "steep occlusal plane",
       "flat occlusal plane",
       [](const Points& p) { return clockwise_angle(p[N] - p[S], occlusal(p)); }},

      // --- Wits --------------------------------------------------------------------------------
      {"Wits", "Wits", "A and B projected on the occlusal plane: AO − BO (+ when AO is ahead)",
       Kind::Length, {A, B, U6, L6, U1_tip, L1_tip}, 0, 1.8, "Jacobson 1975 (adult female)",
       "skeletal Class II tendency", "skeletal Class III tendency",
       [](const Points& p) { return along(occlusal(p), p[A] - p[B]); }, "skeletal Class I"},

      // --- Downs -----------------------------------------------------------------------------
      {"facial_angle", "Downs", "FH (Po–Or) to facial plane N–Pog", Kind::Angle, {Po, Or, N, Pog},
       87.8, 3.6, "Downs 1948", "prominent chin (mandibular prognathism)",
       "retrusive chin (mandibular retrognathism)",
       [](const Points& p) { return angle_between(p[Pog] - p[N], -fh(p)); }},
      {"convexity_angle", "Downs", "180° − angle N–A–Pog (+ when A is anterior to N–Pog)",
       Kind::Angle, {N, A, Pog}, 0, 5.1, "Downs 1948", "convex skeletal profile (Class II tendency)",
       "concave skeletal profile (Class III tendency)",
       [](const Points& p) {
         const double bend = 180 - angle_at(p[N], p[A], p[Pog]);
         return distance_anterior(p[N], p[Pog], p[A]) >= 0 ? bend : -bend;
       }},
      {"AB_plane_angle", "Downs", "A–B line to N–Pog (− when B is posterior to A)", Kind::Angle,
       {A, B, N, Pog}, -4.6, 3.7, "Downs 1948", "skeletal Class III tendency",
       "skeletal Class II tendency",
       [](const Points& p) { return signed_angle(p[N] - p[Pog], p[A] - p[B]); }},
      {"mandibular_plane_angle", "Downs", "FH to mandibular plane (Go–Me)", Kind::Angle,
       {Po, Or, Go, Me}, 21.9, 3.2, "Downs 1948", "steep mandibular plane (vertical pattern)",
       "flat mandibular plane (horizontal pattern)", fh_mp},
      {"Y_axis", "Downs", "FH to S–Gn", Kind::Angle, {Po, Or, S, Gn}, 59.4, 3.8, "Downs 1948",
       "vertical (clockwise) growth pattern", "horizontal (counter-clockwise) growth pattern",
       [](const Points& p) { return clockwise_angle(fh(p), p[Gn] - p[S]); }},
      {"occlusal_plane_angle", "Downs", "cant of the occlusal plane to FH (+ when it descends anteriorly)",
       Kind::Angle, {Po, Or, U6, L6, U1_tip, L1_tip}, 9.3, 3.8, "Downs 1948",
       "steep occlusal plane", "flat occlusal plane",
       [](const Points& p) { return clockwise_angle(fh(p), occlusal(p)); }},
      {"L1-OP", "Downs", "lower incisor axis to occlusal plane, as a deviation from 90°",
       Kind::Angle, {L1_tip, L1_root, U6, L6, U1_tip}, 14.5, 3.5, "Downs 1948",
       "proclined lower incisors", "retroclined lower incisors",
       [](const Points& p) { return 90 - angle_between(l1_axis(p), occlusal(p)); }},

      // --- Tweed (the triangle FMA + IMPA + FMIA = 180°) ---------------------------------------
      {"FMA", "Tweed", "FH to mandibular plane (Go–Me)", Kind::Angle, {Po, Or, Go, Me}, 25, 5,
       "Tweed 1954", "high angle (vertical pattern)", "low angle (horizontal pattern)", fh_mp},
      {"IMPA", "Tweed", "lower incisor axis to mandibular plane", Kind::Angle,
       {L1_tip, L1_root, Go, Me}, 90, 5, "Tweed 1954", "proclined lower incisors",
       "retroclined lower incisors",
       [](const Points& p) { return signed_angle(l1_axis(p), -mp(p)); }},
      {"FMIA", "Tweed", "lower incisor axis to FH", Kind::Angle, {L1_tip, L1_root, Po, Or}, 65, 5,
       "Tweed 1954", "upright lower incisors", "proclined lower incisors",
       [](const Points& p) { return signed_angle(fh(p), l1_axis(p)); }},

      // --- Björk–Jarabak ---------------------------------------------------------------------
      {"saddle_angle", "Björk–Jarabak", "angle N–S–Ar", Kind::Angle, {N, S, Ar}, 123, 5,
       "Jarabak & Fizzell 1972", "obtuse saddle angle (posteriorly placed mandible)",
       "acute saddle angle (anteriorly placed mandible)",
       [](const Points& p) { return angle_at(p[N], p[S], p[Ar]); }},
      {"articular_angle", "Björk–Jarabak", "angle S–Ar–Go", Kind::Angle, {S, Ar, Go}, 143, 6,
       "Jarabak & Fizzell 1972", "obtuse articular angle (retrusive mandible)",
       "acute articular angle (protrusive mandible)",
       [](const Points& p) { return angle_at(p[S], p[Ar], p[Go]); }},
      {"gonial_angle", "Björk–Jarabak", "angle Ar–Go–Me", Kind::Angle, {Ar, Go, Me}, 130, 7,
       "Jarabak & Fizzell 1972", "obtuse gonial angle (vertical growth)",
       "acute gonial angle (horizontal growth)",
       [](const Points& p) { return angle_at(p[Ar], p[Go], p[Me]); }},
      {"sum_of_angles", "Björk–Jarabak", "saddle + articular + gonial", Kind::Angle,
       {N, S, Ar, Go, Me}, 396, 6, "Jarabak & Fizzell 1972", "clockwise (vertical) growth pattern",
       "counter-clockwise (horizontal) growth pattern",
       [](const Points& p) {
         return angle_at(p[N], p[S], p[Ar]) + angle_at(p[S], p[Ar], p[Go]) +
                angle_at(p[Ar], p[Go], p[Me]);
       }},
      {"facial_height_ratio", "Björk–Jarabak", "posterior / anterior face height, S–Go / N–Me",
       Kind::Percent, {S, Go, N, Me}, 61, 2, "Jarabak & Fizzell 1972",
       "horizontal growth pattern (hypodivergent)", "vertical growth pattern (hyperdivergent)",
       [](const Points& p) { return 100 * length(p[Go] - p[S]) / length(p[Me] - p[N]); }},

      // --- McNamara (adult female norms) -----------------------------------------------------
      {"Co-A", "McNamara", "midfacial length Co–A", Kind::Length, {Co, A}, 91.0, 4.3,
       "McNamara 1984 (adult female)", "long midface", "short midface",
       [](const Points& p) { return length(p[A] - p[Co]); }},
      {"Co-Gn", "McNamara", "mandibular length Co–Gn", Kind::Length, {Co, Gn}, 120.2, 5.3,
       "McNamara 1984 (adult female)", "long mandible", "short mandible",
       [](const Points& p) { return length(p[Gn] - p[Co]); }},
      {"maxillomandibular_difference", "McNamara", "Co–Gn − Co–A", Kind::Length, {Co, A, Gn}, 29.2,
       3.3, "McNamara 1984 (adult female)", "mandible long relative to maxilla",
       "mandible short relative to maxilla",
       [](const Points& p) { return length(p[Gn] - p[Co]) - length(p[A] - p[Co]); }},
      {"A-N_perp", "McNamara", "A to N-perpendicular (⊥ FH through N, + anterior)", Kind::Length,
       {A, N, Po, Or}, 0.4, 2.3, "McNamara 1984 (adult female)", "maxillary protrusion",
       "maxillary retrusion", [](const Points& p) { return along(fh(p), p[A] - p[N]); }},
      {"Pog-N_perp", "McNamara", "Pog to N-perpendicular (⊥ FH through N, + anterior)",
       Kind::Length, {Pog, N, Po, Or}, -1.8, 4.5, "McNamara 1984 (adult female)",
       "mandibular protrusion", "mandibular retrusion",
       [](const Points& p) { return along(fh(p), p[Pog] - p[N]); }},
      {"LAFH", "McNamara", "lower anterior face height ANS–Me", Kind::Length, {ANS, Me}, 66.7, 4.1,
       "McNamara 1984 (adult female)", "long lower face", "short lower face",
       [](const Points& p) { return length(p[Me] - p[ANS]); }},
      {"U1-A_vertical", "McNamara", "upper incisor tip ahead of the A vertical (∥ N-perpendicular)",
       Kind::Length, {U1_tip, A, Po, Or}, 5.4, 1.7, "McNamara 1984 (adult female)",
       "protrusive upper incisors", "retrusive upper incisors",
       [](const Points& p) { return along(fh(p), p[U1_tip] - p[A]); }},
      {"L1-APog", "McNamara", "lower incisor tip to A–Pog line (+ anterior)", Kind::Length,
       {L1_tip, A, Pog}, 2.7, 1.7, "McNamara 1984 (adult female)", "protrusive lower incisors",
       "retrusive lower incisors",
       [](const Points& p) { return distance_anterior(p[A], p[Pog], p[L1_tip]); }},

      // --- Ricketts (norms at 9 years; see docs/analyses.md for their change with age) -------
      {"facial_axis", "Ricketts",
       "Ba–N to the facial axis PT–Gn_c (posterior-inferior angle; Gn_c: where the facial plane "
       "N–Pog meets the mandibular plane Go–Me, Ricketts' constructed gnathion)",
       Kind::Angle, {Ba, N, PT, Pog, Go, Me}, 90, 3.5, "Ricketts 1981",
       "horizontal growth pattern (brachyfacial)", "vertical growth pattern (dolichofacial)",
       [](const Points& p) {
         return angle_between(p[Ba] - p[N], intersection(p[N], p[Pog], p[Go], p[Me]) - p[PT]);
       }},
      {"facial_depth", "Ricketts", "FH to facial plane N–Pog", Kind::Angle, {Po, Or, N, Pog}, 87, 3,
       "Ricketts 1981", "prognathic mandible", "retrognathic mandible",
       [](const Points& p) { return angle_between(p[Pog] - p[N], -fh(p)); }},
      {"Ricketts_mandibular_plane", "Ricketts", "FH to mandibular plane (Go–Me)", Kind::Angle,
       {Po, Or, Go, Me}, 26, 4.5, "Ricketts 1981", "high mandibular plane (vertical pattern)",
       "low mandibular plane (horizontal pattern)", fh_mp},
      {"convexity", "Ricketts", "A to facial plane N–Pog (+ anterior)", Kind::Length, {N, Pog, A},
       2, 2, "Ricketts 1981", "convex profile (skeletal Class II tendency)",
       "concave profile (skeletal Class III tendency)",
       [](const Points& p) { return distance_anterior(p[N], p[Pog], p[A]); }},
      {"cranial_deflection", "Ricketts", "Ba–N to FH", Kind::Angle, {Ba, N, Po, Or}, 27, 3,
       "Ricketts 1981", "large cranial deflection (Class III tendency)",
       "small cranial deflection (Class II tendency)",
       [](const Points& p) { return angle_between(p[N] - p[Ba], fh(p)); }},
      {"UL-E_line", "Ricketts", "upper lip to E-line Prn–Pog_soft (− behind the line)",
       Kind::Length, {Prn, Pog_soft, UL}, -4, 2, "Ricketts 1957", "protrusive upper lip",
       "retrusive upper lip",
       [](const Points& p) { return distance_anterior(p[Prn], p[Pog_soft], p[UL]); }},
      {"LL-E_line", "Ricketts", "lower lip to E-line Prn–Pog_soft (− behind the line)",
       Kind::Length, {Prn, Pog_soft, LL}, -2, 2, "Ricketts 1957", "protrusive lower lip",
       "retrusive lower lip",
       [](const Points& p) { return distance_anterior(p[Prn], p[Pog_soft], p[LL]); }},

      // --- Holdaway (norm SDs from his published ranges where he gave no SD) -----------------
      {"H_angle", "Holdaway", "H-line Pog_soft–UL to N–B (+ when the H-line leans forward)",
       Kind::Angle, {Pog_soft, UL, N, B}, 10, 4, "Holdaway 1983", "convex soft-tissue profile",
       "concave soft-tissue profile",
       [](const Points& p) { return clockwise_angle(p[N] - p[B], p[UL] - p[Pog_soft]); }},
      {"soft_tissue_facial_angle", "Holdaway", "FH to soft-tissue facial plane N_soft–Pog_soft",
       Kind::Angle, {Po, Or, N_soft, Pog_soft}, 91, 7, "Holdaway 1983",
       "prominent soft-tissue chin", "retrusive soft-tissue chin",
       [](const Points& p) { return angle_between(p[Pog_soft] - p[N_soft], -fh(p)); }},
      {"LL-H_line", "Holdaway", "lower lip to H-line Pog_soft–UL (+ ahead of the line)",
       Kind::Length, {UL, Pog_soft, LL}, 0.5, 1.5, "Holdaway 1983 (range −1 to 2 mm)",
       "protrusive lower lip", "retrusive lower lip",
       [](const Points& p) { return distance_anterior(p[UL], p[Pog_soft], p[LL]); }},
      {"upper_lip_thickness", "Holdaway",
       "upper lip thickness at the vermilion: upper incisor to UL, along FH (approximation: the "
       "incisor tip stands in for its labial surface, which lies a little further forward)",
       Kind::Length, {U1_tip, UL, Po, Or}, 13.5, 1, "Holdaway 1983 (13–14 mm)",
       "thick upper lip at the vermilion", "thin upper lip at the vermilion",
       [](const Points& p) { return along(fh(p), p[UL] - p[U1_tip]); }},
      {"soft_tissue_chin_thickness", "Holdaway", "Pog to Pog_soft", Kind::Length, {Pog, Pog_soft},
       11, 1, "Holdaway 1983 (10–12 mm)", "thick soft-tissue chin", "thin soft-tissue chin",
       [](const Points& p) { return length(p[Pog_soft] - p[Pog]); }},

      // --- Burstone–Legan --------------------------------------------------------------------
      {"facial_convexity", "Burstone–Legan",
       "180° − angle G_soft–Sn–Pog_soft (+ when Sn is ahead of G_soft–Pog_soft)", Kind::Angle,
       {G_soft, Sn, Pog_soft}, 12, 4, "Legan & Burstone 1980",
       "convex soft-tissue profile (Class II tendency)",
       "concave soft-tissue profile (Class III tendency)",
       [](const Points& p) {
         const double bend = 180 - angle_at(p[G_soft], p[Sn], p[Pog_soft]);
         return distance_anterior(p[G_soft], p[Pog_soft], p[Sn]) >= 0 ? bend : -bend;
       }},
      {"nasolabial_angle", "Burstone–Legan", "angle Cm–Sn–UL (columella, subnasale, upper lip)",
       Kind::Angle, {Cm, Sn, UL}, 102, 8, "Legan & Burstone 1980",
       "obtuse nasolabial angle (retrusive upper lip)",
       "acute nasolabial angle (protrusive upper lip)",
       [](const Points& p) { return angle_at(p[Cm], p[Sn], p[UL]); }},
      {"lower_face_throat_angle", "Burstone–Legan", "angle Sn–Gn_soft–C_point", Kind::Angle,
       {Sn, Gn_soft, C_point}, 100, 7, "Legan & Burstone 1980", "obtuse lower face–throat angle",
       "acute lower face–throat angle",
       [](const Points& p) { return angle_at(p[Sn], p[Gn_soft], p[C_point]); }},
      {"UL-Sn_Pog_soft", "Burstone–Legan", "upper lip to Sn–Pog_soft (+ ahead of the line)",
       Kind::Length, {Sn, Pog_soft, UL}, 3, 1, "Legan & Burstone 1980", "protrusive upper lip",
       "retrusive upper lip",
       [](const Points& p) { return distance_anterior(p[Sn], p[Pog_soft], p[UL]); }},
      {"LL-Sn_Pog_soft", "Burstone–Legan", "lower lip to Sn–Pog_soft (+ ahead of the line)",
       Kind::Length, {Sn, Pog_soft, LL}, 2, 1, "Legan & Burstone 1980", "protrusive lower lip",
       "retrusive lower lip",
       [](const Points& p) { return distance_anterior(p[Sn], p[Pog_soft], p[LL]); }},
  };
  return defs;
}
// clang-format on

// Analyses the 25 landmarks cannot support; listed so that nobody takes silence for a value.
const std::vector<UnavailableMeasurement>& never_available() {
  static const std::vector<UnavailableMeasurement> list = {
      {"Ricketts_Xi_measures", "Ricketts",
       "lower face height (ANS–Xi–Pm), mandibular arc and corpus axis need Xi, the centre of the "
       "ramus, constructed from the ramus borders R1–R4 and DC, none of which is among the 39 "
       "landmarks (and bony Pm is not the soft-tissue Pm we have)"},
  };
  return list;
}

// Which way the face looks: the face lies on N's side of S. Without S or N, the caller's hint,
// then which side the anterior landmarks lie on.
std::optional<Orientation> detect_facing(const OriginalImageLandmarks& set,
                                         std::vector<std::string>& warnings) {
  const auto side = [](double dx) -> std::optional<Orientation> {
    if (dx > 0) return Orientation::FacingRight;
    if (dx < 0) return Orientation::FacingLeft;
    return std::nullopt;
  };
  const auto& s = set.points[lm::S];
  const auto& n = set.points[lm::N];
  if (s && n) {
    if (auto f = side(n->x - s->x)) {
      if (set.orientation && *set.orientation != *f)
        warnings.push_back(
            "the landmarks face " + std::string(orientation_name(*f)) + " but the input says " +
            std::string(orientation_name(*set.orientation)) + "; using the landmarks");
      return f;
    }
  }
  if (set.orientation) return set.orientation;
  const auto mean_x = [&](std::initializer_list<int> ids) -> std::optional<double> {
    double sum = 0;
    int count = 0;
    for (int i : ids)
      if (set.points[i]) sum += set.points[i]->x, ++count;
    if (count == 0) return std::nullopt;
    return sum / count;
  };
  const auto front = mean_x({lm::N, lm::A, lm::B, lm::Pog, lm::Gn, lm::Me, lm::ANS, lm::U1_tip,
                             lm::L1_tip, lm::UL, lm::LL, lm::Sn, lm::Prn, lm::Pog_soft, lm::Pm});
  const auto back = mean_x({lm::S, lm::Ar, lm::Co, lm::Go, lm::Po, lm::Ba, lm::PNS});
  if (front && back) return side(*front - *back);
  return std::nullopt;
}

std::string join_names(const std::vector<int>& ids) {
  std::string out;
  for (int i : ids) out += (out.empty() ? "" : ", ") + std::string(landmark_name(i));
  return out;
}

// The analyses in the order clinicians read them: id (for --analyses) and display name.
constexpr std::pair<std::string_view, std::string_view> kAnalyses[] = {
    {"steiner", "Steiner"},   {"wits", "Wits"},         {"downs", "Downs"},
    {"tweed", "Tweed"},       {"bjork", "Björk–Jarabak"}, {"mcnamara", "McNamara"},
    {"ricketts", "Ricketts"}, {"holdaway", "Holdaway"}, {"burstone", "Burstone–Legan"},
};

// Which analyses to report: all when none is named. Throws for an unknown id.
std::vector<std::string_view> selected_analyses(const std::vector<std::string>& ids) {
  std::vector<std::string_view> names;
  for (const auto& [id, name] : kAnalyses)
    if (ids.empty() || std::find(ids.begin(), ids.end(), id) != ids.end()) names.push_back(name);
  for (const auto& id : ids)
    if (std::none_of(std::begin(kAnalyses), std::end(kAnalyses), [&](const auto& a) { return a.first == id; })) {
      std::string known;
      for (const auto& [k, n] : kAnalyses) known += (known.empty() ? "" : ", ") + std::string(k);
      throw std::invalid_argument("unknown analysis '" + id + "' (known: " + known + ")");
    }
  return names;
}

}  // namespace

std::vector<std::pair<std::string_view, std::string_view>> analysis_names() {
  return {std::begin(kAnalyses), std::end(kAnalyses)};
}

std::vector<std::string_view> measurement_keys() {
  std::vector<std::string_view> keys;
  for (const auto& d : definitions()) keys.push_back(d.key);
  return keys;
}

const Measurement* AnalysisReport::find(std::string_view key) const {
  for (const auto& m : measurements)
    if (m.key == key) return &m;
  return nullptr;
}

const UnavailableMeasurement* AnalysisReport::find_unavailable(std::string_view key) const {
  for (const auto& u : not_available)
    if (u.key == key) return &u;
  return nullptr;
}

AnalysisReport analyze(const OriginalImageLandmarks& set, const AnalysisOptions& options) {
  if (options.pixel_spacing_mm &&
      !(*options.pixel_spacing_mm > 0 && std::isfinite(*options.pixel_spacing_mm)))
    throw std::invalid_argument("pixel spacing must be a positive number of mm per pixel");

  const auto analyses = selected_analyses(options.analyses);
  const auto chosen = [&](std::string_view analysis) {
    return std::find(analyses.begin(), analyses.end(), analysis) != analyses.end();
  };
  AnalysisReport report;
  report.facing = detect_facing(set, report.warnings);
  if (!report.facing) {
    report.warnings.push_back("cannot tell which way the face looks; assuming it faces right");
  }

  // Profile frame: anterior = +x, superior = +y. For a right-facing face this is a reflection
  // of the image's y axis; for a left-facing one a half turn. Either way a mirrored image
  // maps to the same frame up to a translation, so every value is identical.
  const double ahead = report.facing == Orientation::FacingLeft ? -1.0 : 1.0;
  Points frame{};
  for (int i = 0; i < kNumTraced; ++i)
    if (set.points[i]) frame[i] = Pt(ahead * set.points[i]->x, -set.points[i]->y);

  // Scale for linear measures.
  const auto spacing = options.pixel_spacing_mm ? options.pixel_spacing_mm : set.pixel_spacing_mm;
  bool compare_lengths = true;
  if (spacing) {
    report.mm_per_pixel = spacing;
    report.length_unit = "mm";
  } else if (options.sn_scaled && set.points[lm::S] && set.points[lm::N] &&
             length(*set.points[lm::N] - *set.points[lm::S]) > 1) {
    report.mm_per_pixel = kMeanSnMm / length(*set.points[lm::N] - *set.points[lm::S]);
    report.length_unit = "mm (S-N scaled)";
    report.warnings.push_back(
        "pixel spacing unknown: linear measures are scaled so that S–N = 71 mm (a population "
        "mean), so their deviations from the norms are only indicative");
  } else {
    report.length_unit = "px";
    compare_lengths = false;
    report.warnings.push_back(
        std::string("pixel spacing unknown: linear measures are in pixels and are not compared "
                    "with norms (give --pixel-spacing") +
        (options.sn_scaled ? "; S–N is missing, so S–N scaling is impossible)" : ")"));
  }

  std::vector<int> low_used;
  for (const auto& d : definitions()) {
    if (!chosen(d.analysis)) continue;
    std::vector<int> missing, low;
    for (int i : d.needs) {
      if (!set.points[i]) {
        missing.push_back(i);
      } else if (set.low_confidence[i]) {
        low.push_back(i);
      }
    }
    std::string reason;
    if (!missing.empty()) {
      reason = "needs " + join_names(missing) + " (missing";
      if (std::any_of(missing.begin(), missing.end(), [](int i) { return i >= kNumLandmarks; }))
        reason += "; the extended landmarks come from the extended model, models/extended/";
      reason += ")";
    }
    if (!low.empty() && !options.allow_low_confidence)
      reason += (reason.empty() ? "needs " : "; ") + join_names(low) +
                " (low confidence; --allow-low-confidence uses it anyway)";
    if (!reason.empty()) {
      report.not_available.push_back({std::string(d.key), std::string(d.analysis), reason});
      continue;
    }
    double value = d.compute(frame);
    if (!std::isfinite(value)) {
      report.not_available.push_back(
          {std::string(d.key), std::string(d.analysis),
           "degenerate geometry: coincident landmarks among " + join_names(d.needs)});
      continue;
    }
    low_used.insert(low_used.end(), low.begin(), low.end());

    Measurement m;
    m.key = d.key;
    m.analysis = d.analysis;
    m.description = d.description;
    m.norm_source = d.norm_source;
    m.unit = d.kind == Kind::Angle ? "deg" : d.kind == Kind::Percent ? "%" : report.length_unit;
    if (d.kind == Kind::Length && report.mm_per_pixel) value *= *report.mm_per_pixel;
    m.value = value;
    if (d.kind != Kind::Length || compare_lengths) {
      m.norm_mean = d.norm_mean;
      m.norm_sd = d.norm_sd;
      m.deviation_sd = (value - d.norm_mean) / d.norm_sd;
      m.interpretation = *m.deviation_sd > 1 ? d.above : *m.deviation_sd < -1 ? d.below : d.within;
    } else {
      m.interpretation = "not compared (pixel units)";
    }
    report.measurements.push_back(std::move(m));
  }
  for (const auto& u : never_available())
    if (chosen(u.analysis)) report.not_available.push_back(u);

  if (!low_used.empty()) {
    std::sort(low_used.begin(), low_used.end());
    low_used.erase(std::unique(low_used.begin(), low_used.end()), low_used.end());
    report.warnings.push_back("low-confidence landmarks used: " + join_names(low_used));
  }
  return report;
}

}  // namespace cephtrace
