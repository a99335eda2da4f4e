// Hand-constructed faces: each expected value follows from how the points were placed.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "analysis/analysis_fixtures.hpp"
#include "cephtrace/analysis.hpp"

namespace cephtrace {
namespace {

using namespace lm;
using test::polar;
using test::profile_set;
using P = cv::Point2d;

constexpr double kTol = 1e-9;

double deg_atan(double t) { return std::atan(t) * 180 / std::numbers::pi; }

double value(const AnalysisReport& r, std::string_view key) {
  const auto* m = r.find(key);
  EXPECT_NE(m, nullptr) << key << " missing; "
                        << (r.find_unavailable(key) ? r.find_unavailable(key)->reason : "");
  return m ? m->value : std::nan("");
}

// S–N horizontal, 70 mm; A and B below N at the given S–N–A / S–N–B angles.
OriginalImageLandmarks steiner_face(double sna_deg, double snb_deg) {
  const P s(0, 0), n(70, 0);
  // From N, S lies at 180°; rotating down (clockwise) by SNA gives the direction of A.
  return profile_set(
      {{S, s}, {N, n}, {A, polar(n, 180 + sna_deg, 50)}, {B, polar(n, 180 + snb_deg, 100)}});
}

TEST(Steiner, SnaSnbAnbFromConstructedAngles) {
  const auto r = analyze(steiner_face(82, 80));
  EXPECT_NEAR(value(r, "SNA"), 82, kTol);
  EXPECT_NEAR(value(r, "SNB"), 80, kTol);
  EXPECT_NEAR(value(r, "ANB"), 2, kTol);
  EXPECT_NEAR(*r.find("SNA")->deviation_sd, 0, kTol);
  EXPECT_EQ(r.find("ANB")->interpretation, "skeletal Class I");
  EXPECT_EQ(r.find("SNA")->unit, "deg");
  EXPECT_EQ(r.find("SNA")->norm_source, "Steiner 1953");
}

TEST(Steiner, ClassTwoAndThreeInterpretation) {
  // SNB 76: ANB = 6°, two SDs above the 2 ± 2 norm; SNB two SDs below 80 ± 2.
  const auto c2 = analyze(steiner_face(82, 76));
  EXPECT_NEAR(value(c2, "ANB"), 6, kTol);
  EXPECT_NEAR(*c2.find("ANB")->deviation_sd, 2, kTol);
  EXPECT_EQ(c2.find("ANB")->interpretation, "skeletal Class II tendency");
  EXPECT_EQ(c2.find("SNB")->interpretation, "retrognathic mandible");
  // B in front of A: ANB negative.
  const auto c3 = analyze(steiner_face(80, 84));
  EXPECT_NEAR(value(c3, "ANB"), -4, kTol);
  EXPECT_EQ(c3.find("ANB")->interpretation, "skeletal Class III tendency");
}

// S–N and FH horizontal; mandibular plane descending 32° forwards; incisors placed by angle.
OriginalImageLandmarks dental_face() {
  const P n(70, 0), go(0, -60), u1(75, -70), l1(73, -72);
  const P b = polar(n, 180 + 80, 100);  // SNB 80: N–B points up at 80° from B
  return profile_set({{S, {0, 0}},
                      {N, n},
                      {A, polar(n, 180 + 82, 50)},  // SNA 82: N–A leans 8° back from vertical
                      {B, b},
                      {Po, {-10, -15}},
                      {Or, {60, -15}},
                      {Go, go},
                      {Me, polar(go, -32, 80)},
                      {U1_tip, u1},
                      // Root up and 13° behind the perpendicular to S–N: U1–SN = 103°.
                      {U1_root, polar(u1, 90 + 13, 25)},
                      {L1_tip, l1},
                      // Axis root→tip at 55° = N–B direction (80°) turned 25° forwards.
                      {L1_root, polar(l1, 55 + 180, 22)}});
}

TEST(Steiner, MandibularPlaneAndIncisorAngles) {
  const auto r = analyze(dental_face());
  EXPECT_NEAR(value(r, "SN-MP"), 32, kTol);
  EXPECT_NEAR(value(r, "U1-SN"), 103, kTol);
  // N–A leans 8° back, the incisor 13° forward: 21° between them.
  EXPECT_NEAR(value(r, "U1-NA_deg"), 21, kTol);
  EXPECT_NEAR(value(r, "L1-NB_deg"), 25, kTol);
  // Tip→root directions at 103° and 235°.
  EXPECT_NEAR(value(r, "interincisal_angle"), 132, kTol);
}

TEST(Tweed, TriangleFromConstructedAngles) {
  const auto r = analyze(dental_face());
  EXPECT_NEAR(value(r, "FMA"), 32, kTol);
  EXPECT_NEAR(value(r, "mandibular_plane_angle"), 32, kTol);
  // Go→Me at −32°, so Me→Go at 148°; the lower incisor axis at 55°.
  EXPECT_NEAR(value(r, "IMPA"), 148 - 55, kTol);
  EXPECT_NEAR(value(r, "FMIA"), 55, kTol);
  EXPECT_NEAR(value(r, "FMA") + value(r, "IMPA") + value(r, "FMIA"), 180, kTol);
  EXPECT_EQ(r.find("FMA")->interpretation, "high angle (vertical pattern)");  // 32 vs 25 ± 5
}

TEST(Steiner, IncisorDistancesToVerticalLines) {
  // N–A and N–B vertical; incisor tips 4 mm in front and 1.5 mm behind.
  const auto r = analyze(profile_set(
      {{N, {70, 0}}, {A, {70, -50}}, {B, {70, -90}}, {U1_tip, {74, -70}}, {L1_tip, {68.5, -72}}}));
  EXPECT_NEAR(value(r, "U1-NA_mm"), 4, kTol);
  EXPECT_EQ(r.find("U1-NA_mm")->unit, "mm");
  EXPECT_NEAR(value(r, "L1-NB_mm"), -1.5, kTol);
}

TEST(Downs, ConvexityFacialAngleAbPlaneYAxis) {
  const P s(20, 20);
  const auto r = analyze(profile_set({{Po, {0, 0}},
                                      {Or, {80, 0}},
                                      {N, {90, 10}},
                                      {Pog, {90, -100}},  // facial plane ⊥ FH
                                      {A, {95, -40}},     // 5 mm in front of N–Pog
                                      {B, {92, -70}},     // 3 mm behind A, 30 mm lower
                                      {S, s},
                                      {Gn, polar(s, -60, 90)}}));
  EXPECT_NEAR(value(r, "facial_angle"), 90, kTol);
  // N–A–Pog bends at A by the two small angles the segments make with the vertical.
  EXPECT_NEAR(value(r, "convexity_angle"), deg_atan(5.0 / 50) + deg_atan(5.0 / 60), kTol);
  EXPECT_NEAR(value(r, "AB_plane_angle"), -deg_atan(3.0 / 30), kTol);
  EXPECT_NEAR(value(r, "Y_axis"), 60, kTol);
}

TEST(Downs, ConvexityNegativeWhenAIsBehindFacialPlane) {
  const auto r = analyze(profile_set({{N, {90, 10}}, {Pog, {90, -100}}, {A, {85, -40}}}));
  EXPECT_NEAR(value(r, "convexity_angle"), -(deg_atan(5.0 / 50) + deg_atan(5.0 / 60)), kTol);
  EXPECT_EQ(r.find("convexity_angle")->interpretation,
            "concave skeletal profile (Class III tendency)");
}

TEST(BjorkJarabak, PolygonAnglesAndFaceHeightRatio) {
  const P s(0, 0), ar = polar(s, -123, 35);  // S→Ar at 123° from S→N
  const P go = polar(ar, 57 - 143, 45);      // Ar→S points at 57°; turn 143° clockwise
  const P me = polar(go, 94 - 130, 70);      // Go→Ar points at 94°; turn 130° clockwise
  const auto r = analyze(profile_set({{S, s}, {N, {70, 0}}, {Ar, ar}, {Go, go}, {Me, me}}));
  EXPECT_NEAR(value(r, "saddle_angle"), 123, kTol);
  EXPECT_NEAR(value(r, "articular_angle"), 143, kTol);
  EXPECT_NEAR(value(r, "gonial_angle"), 130, kTol);
  EXPECT_NEAR(value(r, "sum_of_angles"), 396, kTol);

  const auto h =
      analyze(profile_set({{S, {0, 0}}, {Go, {0, -61}}, {N, {70, 0}}, {Me, {70, -100}}}));
  EXPECT_NEAR(value(h, "facial_height_ratio"), 61, kTol);
  EXPECT_EQ(h.find("facial_height_ratio")->unit, "%");
}

TEST(McNamara, LengthsAndNasionPerpendicular) {
  // 3-4-5 triangles from Co: Co–A = 90 mm, Co–Gn = 120 mm.
  const auto r = analyze(profile_set({{Co, {0, 0}},
                                      {A, {54, -72}},
                                      {Gn, {72, -96}},
                                      {Po, {-40, 60}},
                                      {Or, {40, 60}},  // FH horizontal
                                      {N, {52, 80}},
                                      {Pog, {47, -110}}}));
  EXPECT_NEAR(value(r, "Co-A"), 90, kTol);
  EXPECT_NEAR(value(r, "Co-Gn"), 120, kTol);
  EXPECT_NEAR(value(r, "maxillomandibular_difference"), 30, kTol);
  EXPECT_NEAR(value(r, "A-N_perp"), 2, kTol);                      // A is 2 mm in front of N
  EXPECT_NEAR(value(r, "Pog-N_perp"), -5, kTol);                   // Pog 5 mm behind
  EXPECT_EQ(r.find("Pog-N_perp")->interpretation, "within norm");  // −1.8 ± 4.5
}

TEST(SoftTissue, ELineNasolabialAndHAngle) {
  const P sn(90, -25), pog_soft(80, -100), b(70, -80);
  const auto r = analyze(profile_set({{Prn, {100, 0}},
                                      {Pog_soft, {100, -100}},  // vertical E-line
                                      {UL, {96, -50}},
                                      {LL, {101, -70}}}));
  EXPECT_NEAR(value(r, "UL-E_line"), -4, kTol);
  EXPECT_NEAR(value(r, "LL-E_line"), 1, kTol);
  EXPECT_EQ(r.find("LL-E_line")->interpretation, "protrusive lower lip");  // −2 ± 2

  // The nasolabial angle is the columella's, not the nose tip's: Prn elsewhere changes nothing.
  const auto nl = analyze(profile_set(
      {{Sn, sn}, {Cm, polar(sn, 15, 10)}, {Prn, polar(sn, 40, 20)}, {UL, polar(sn, 15 - 102, 15)}}));
  EXPECT_NEAR(value(nl, "nasolabial_angle"), 102, kTol);
  EXPECT_EQ(nl.find("nasolabial_angle")->analysis, "Burstone–Legan");

  // N–B vertical; H-line from soft pogonion leaning 10° forwards.
  const auto h = analyze(
      profile_set({{N, {70, 0}}, {B, b}, {Pog_soft, pog_soft}, {UL, polar(pog_soft, 80, 60)}}));
  EXPECT_NEAR(value(h, "H_angle"), 10, kTol);
}

// Occlusal plane horizontal through the molar contact (20, −50) and incisor overlap (70, −50);
// S–N rising 14° forwards, FH rising 9.3°, the lower incisor 14.5° off the perpendicular.
OriginalImageLandmarks occlusal_face(P a, P b) {
  const P l1(70, -51), po(-10, -15);
  return profile_set({{S, {0, 0}},
                      {N, polar({0, 0}, 14, 70)},
                      {Po, po},
                      {Or, polar(po, 9.3, 70)},
                      {A, a},
                      {B, b},
                      {U6, {20, -49}},
                      {L6, {20, -51}},
                      {U1_tip, {70, -49}},
                      {L1_tip, l1},
                      {L1_root, polar(l1, 75.5 + 180, 22)}});
}

TEST(Wits, ProjectionsOnTheOcclusalPlane) {
  // A 4 mm ahead of B along the plane, whatever their heights: Class II (0 ± 1.8).
  const auto c2 = analyze(occlusal_face({68, -30}, {64, -80}));
  EXPECT_NEAR(value(c2, "Wits"), 4, kTol);
  EXPECT_EQ(c2.find("Wits")->unit, "mm");
  EXPECT_EQ(c2.find("Wits")->interpretation, "skeletal Class II tendency");
  const auto c1 = analyze(occlusal_face({66, -30}, {66, -80}));
  EXPECT_NEAR(value(c1, "Wits"), 0, kTol);
  EXPECT_EQ(c1.find("Wits")->interpretation, "skeletal Class I");
  const auto c3 = analyze(occlusal_face({62, -30}, {66, -80}));
  EXPECT_EQ(c3.find("Wits")->interpretation, "skeletal Class III tendency");
}

TEST(Downs, OcclusalPlaneCantAndLowerIncisor) {
  const auto r = analyze(occlusal_face({66, -30}, {66, -80}));
  EXPECT_NEAR(value(r, "SN-OP"), 14, kTol);
  EXPECT_NEAR(value(r, "occlusal_plane_angle"), 9.3, kTol);
  EXPECT_NEAR(value(r, "L1-OP"), 14.5, kTol);
}

// Ba–N, FH horizontal, the facial plane N–Pog leaning back 3°; the mandibular plane Go–Me
// meets it at gn_c (Ricketts' constructed gnathion), and PT lies `axis` from gn_c. The annotated
// Gn is put elsewhere: the facial axis must not use it.
OriginalImageLandmarks ricketts_face(P axis) {
  const P ba(-10, -20), n(70, 0);
  const P gn_c = polar(n, -93, 110);
  return profile_set({{Ba, ba},
                      {N, n},
                      {PT, gn_c - axis},
                      {Gn, gn_c + P(-9, 4)},
                      {Go, gn_c + P(-80, 30)},
                      {Me, gn_c + P(-8, 3)},
                      {Po, {-10, -15}},
                      {Or, {60, -15}},
                      {Pog, polar(n, -93, 100)},
                      {A, {73, -50}}});
}

TEST(Ricketts, FacialAxisDepthConvexityAndCranialDeflection) {
  // The facial axis at right angles to Ba–N = (−80, −20).
  const auto r = analyze(ricketts_face({20, -80}));
  EXPECT_NEAR(value(r, "facial_axis"), 90, 1e-9);
  EXPECT_NEAR(value(r, "facial_depth"), 87, kTol);
  EXPECT_NEAR(value(r, "cranial_deflection"), deg_atan(20.0 / 80), kTol);
  // A (3 mm ahead of N, 50 mm below it) to the facial plane, which leans back 3° from N.
  const double lean = 3 * std::numbers::pi / 180;
  EXPECT_NEAR(value(r, "convexity"), 3 * std::cos(lean) + 50 * std::sin(lean), kTol);
  // A chin swung down and back (the axis 10° steeper) closes the facial axis: vertical pattern.
  const double steeper = std::atan2(-80.0, 20.0) - 10 * std::numbers::pi / 180;
  const auto v = analyze(ricketts_face({std::cos(steeper), std::sin(steeper)}));
  EXPECT_NEAR(value(v, "facial_axis"), 80, kTol);
  EXPECT_EQ(v.find("facial_axis")->interpretation, "vertical growth pattern (dolichofacial)");
}

TEST(Holdaway, SoftTissueFacialAngleLipAndChin) {
  const P n_soft(80, 0), pog_soft(96, -100);
  const auto r = analyze(profile_set({{Po, {-10, -15}},
                                      {Or, {60, -15}},
                                      {N_soft, n_soft},
                                      {Pog_soft, polar(n_soft, -89, 100)}}));
  EXPECT_NEAR(value(r, "soft_tissue_facial_angle"), 91, kTol);
  const auto lips = analyze(profile_set({{Po, {-10, -15}},
                                         {Or, {60, -15}},
                                         {UL, {96, -50}},
                                         {Pog_soft, pog_soft},
                                         {LL, {97, -70}},
                                         {U1_tip, {83, -55}},
                                         {Pog, {85, -100}}}));
  EXPECT_NEAR(value(lips, "LL-H_line"), 1, kTol);
  EXPECT_NEAR(value(lips, "upper_lip_thickness"), 13, kTol);
  EXPECT_NEAR(value(lips, "soft_tissue_chin_thickness"), 11, kTol);
}

TEST(BurstoneLegan, ConvexityThroatAndLips) {
  const P sn(90, -40), gn_soft(85, -110);
  const auto r = analyze(profile_set({{Sn, sn},
                                      {G_soft, polar(sn, 96, 40)},
                                      {Pog_soft, polar(sn, -96, 60)},
                                      {UL, {sn.x + 3, -55}}}));
  EXPECT_NEAR(value(r, "facial_convexity"), 12, kTol);
  const auto t = analyze(profile_set(
      {{Sn, polar(gn_soft, 95, 70)}, {Gn_soft, gn_soft}, {C_point, polar(gn_soft, 195, 50)}}));
  EXPECT_NEAR(value(t, "lower_face_throat_angle"), 100, kTol);
  const auto lips = analyze(profile_set({{Sn, {90, -40}}, {Pog_soft, {90, -110}}, {UL, {93, -55}}, {LL, {88, -80}}}));
  EXPECT_NEAR(value(lips, "UL-Sn_Pog_soft"), 3, kTol);
  EXPECT_NEAR(value(lips, "LL-Sn_Pog_soft"), -2, kTol);
  EXPECT_EQ(lips.find("LL-Sn_Pog_soft")->interpretation, "retrusive lower lip");  // 2 ± 1
}

TEST(Selection, OnlyTheNamedAnalysesInClinicalOrder) {
  AnalysisOptions options;
  options.analyses = {"wits", "steiner"};
  const auto r = analyze(test::isbi_001(), options);
  ASSERT_FALSE(r.measurements.empty());
  EXPECT_EQ(r.measurements.front().key, "SNA");  // Steiner first whatever the order asked
  EXPECT_EQ(r.measurements.back().key, "Wits");
  for (const auto& m : r.measurements) EXPECT_TRUE(m.analysis == "Steiner" || m.analysis == "Wits") << m.key;
  EXPECT_TRUE(r.not_available.empty());  // the Ricketts Xi entry belongs to Ricketts
  options.analyses = {"ricketts"};
  EXPECT_NE(analyze(test::isbi_001(), options).find_unavailable("Ricketts_Xi_measures"), nullptr);
  options.analyses = {"steiner", "sassouni"};
  try {
    analyze(test::isbi_001(), options);
    FAIL() << "an unknown analysis was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown analysis 'sassouni'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("burstone"), std::string::npos);  // lists the known ids
  }
}

TEST(Selection, AnalysisNamesMatchTheMeasurementsAnalyses) {
  const auto report = analyze(test::isbi_001());
  std::vector<std::string_view> seen;
  for (const auto& m : report.measurements)
    if (seen.empty() || seen.back() != m.analysis) seen.push_back(m.analysis);
  const auto names = analysis_names();
  ASSERT_EQ(seen.size(), names.size());  // every analysis appears once, as one block
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(seen[i], names[i].second);
}

// ---- Invariance ------------------------------------------------------------------------------

void expect_same_values(const AnalysisReport& a, const AnalysisReport& b) {
  ASSERT_EQ(a.measurements.size(), b.measurements.size());
  for (size_t i = 0; i < a.measurements.size(); ++i) {
    EXPECT_EQ(a.measurements[i].key, b.measurements[i].key);
    EXPECT_NEAR(a.measurements[i].value, b.measurements[i].value, 1e-9) << a.measurements[i].key;
    EXPECT_EQ(a.measurements[i].interpretation, b.measurements[i].interpretation);
  }
}

TEST(Invariance, MirroredImageGivesIdenticalValues) {
  const auto right = analyze(test::isbi_001());
  const auto left = analyze(test::mirrored(test::isbi_001()));
  EXPECT_EQ(right.facing, Orientation::FacingRight);
  EXPECT_EQ(left.facing, Orientation::FacingLeft);
  // Every measure: the fixture has the 39 landmarks but Pm, which no measure needs.
  EXPECT_EQ(right.measurements.size(), measurement_keys().size());
  expect_same_values(right, left);
  // The signed measures really are signed the clinical way in both (not just equal):
  // this face has its lower incisor tip ahead of N–B.
  EXPECT_GT(left.find("L1-NB_mm")->value, 0);
}

TEST(Invariance, MirroredConstructedFaceKeepsSigns) {
  const auto r = analyze(test::mirrored(steiner_face(80, 84)));
  EXPECT_NEAR(value(r, "ANB"), -4, kTol);
  const auto d = analyze(test::mirrored(dental_face()));
  EXPECT_NEAR(value(d, "U1-NA_deg"), 21, kTol);
  EXPECT_NEAR(value(d, "FMIA"), 55, kTol);
}

TEST(Invariance, TiltedHeadGivesIdenticalValues) {
  expect_same_values(analyze(test::isbi_001()), analyze(test::rotated(test::isbi_001(), 15)));
  expect_same_values(analyze(test::isbi_001()),
                     analyze(test::rotated(test::mirrored(test::isbi_001()), -20)));
}

TEST(Invariance, FacingWithoutSellaOrNasionFromOtherLandmarks) {
  auto set = test::mirrored(test::isbi_001());
  set.points[S].reset();
  set.points[N].reset();
  const auto r = analyze(set);
  EXPECT_EQ(r.facing, Orientation::FacingLeft);
  EXPECT_NEAR(value(r, "UL-E_line"), value(analyze(test::isbi_001()), "UL-E_line"), 1e-9);
}

// ---- Missing, low-confidence, degenerate ---------------------------------------------------

TEST(Availability, MissingLandmarkMakesDependentMeasuresUnavailable) {
  auto set = test::isbi_001();
  set.points[Co].reset();
  const auto r = analyze(set);
  for (auto key : {"Co-A", "Co-Gn", "maxillomandibular_difference"}) {
    EXPECT_EQ(r.find(key), nullptr) << key;
    ASSERT_NE(r.find_unavailable(key), nullptr) << key;
    EXPECT_EQ(r.find_unavailable(key)->reason, "needs Co (missing)");
  }
  EXPECT_NE(r.find("A-N_perp"), nullptr);  // McNamara measures without Co remain
}

TEST(Availability, LowConfidenceLandmarkNeedsPermission) {
  auto set = test::isbi_001();
  set.low_confidence[B] = true;
  const auto r = analyze(set);
  EXPECT_EQ(r.find("SNB"), nullptr);
  ASSERT_NE(r.find_unavailable("ANB"), nullptr);
  EXPECT_NE(r.find_unavailable("ANB")->reason.find("B (low confidence"), std::string::npos);
  EXPECT_NE(r.find("SNA"), nullptr);

  AnalysisOptions allow;
  allow.allow_low_confidence = true;
  const auto a = analyze(set, allow);
  EXPECT_NEAR(value(a, "SNB"), value(analyze(test::isbi_001()), "SNB"), kTol);
  ASSERT_FALSE(a.warnings.empty());
  EXPECT_NE(a.warnings.back().find("low-confidence landmarks used: B"), std::string::npos);
}

TEST(Availability, CoincidentLandmarksAreReportedNotZero) {
  auto set = steiner_face(82, 80);
  set.points[A] = set.points[N];
  const auto r = analyze(set);
  ASSERT_NE(r.find_unavailable("SNA"), nullptr);
  EXPECT_NE(r.find_unavailable("SNA")->reason.find("degenerate"), std::string::npos);
}

TEST(Availability, MeasuresBeyondTheLandmarksAreListedWithReasons) {
  const auto r = analyze(test::isbi_001());
  ASSERT_NE(r.find_unavailable("Ricketts_Xi_measures"), nullptr);
  EXPECT_NE(r.find_unavailable("Ricketts_Xi_measures")->reason.find("Xi"), std::string::npos);
  EXPECT_EQ(r.not_available.size(), 1u);  // everything else is computed from the 39
}

TEST(Availability, MissingExtendedLandmarkSaysWhereItComesFrom) {
  auto set = test::isbi_001();
  set.points[U6].reset();
  const auto r = analyze(set);
  for (auto key : {"Wits", "SN-OP", "occlusal_plane_angle", "L1-OP"}) {
    ASSERT_NE(r.find_unavailable(key), nullptr) << key;
    EXPECT_EQ(r.find_unavailable(key)->reason,
              "needs U6 (missing; the extended landmarks come from the extended model, models/extended/)");
  }
  EXPECT_NE(r.find("ANB"), nullptr);
}

TEST(Availability, EmptySetGivesNoNumbersAndNoCrash) {
  const auto r = analyze(OriginalImageLandmarks{});
  EXPECT_TRUE(r.measurements.empty());
  EXPECT_EQ(r.not_available.size(), measurement_keys().size() + 1);
  EXPECT_FALSE(r.facing.has_value());
}

// ---- Units -----------------------------------------------------------------------------------

TEST(Units, PixelsWithWarningWhenSpacingUnknown) {
  auto set = test::isbi_001();
  set.pixel_spacing_mm.reset();
  const auto r = analyze(set);
  EXPECT_EQ(r.length_unit, "px");
  const auto* ul = r.find("UL-E_line");
  ASSERT_NE(ul, nullptr);
  EXPECT_EQ(ul->unit, "px");
  EXPECT_NEAR(ul->value, value(analyze(test::isbi_001()), "UL-E_line") * 10, 1e-9);  // 0.1 mm/px
  EXPECT_FALSE(ul->norm_mean.has_value());
  EXPECT_FALSE(ul->deviation_sd.has_value());
  EXPECT_TRUE(r.find("SNA")->deviation_sd.has_value());  // angles do not need a scale
  EXPECT_TRUE(r.find("facial_height_ratio")->deviation_sd.has_value());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("pixel spacing unknown"), std::string::npos);
}

TEST(Units, SellaNasionScalingIsLabelled) {
  // S–N is 710 px, so scaling S–N to 71 mm means 0.1 mm per pixel.
  auto set = profile_set(
      {{S, {0, 0}}, {N, {71, 0}}, {Prn, {100, 0}}, {Pog_soft, {100, -100}}, {UL, {96, -50}}});
  set.pixel_spacing_mm.reset();
  AnalysisOptions o;
  o.sn_scaled = true;
  const auto r = analyze(set, o);
  EXPECT_EQ(r.length_unit, "mm (S-N scaled)");
  EXPECT_NEAR(*r.mm_per_pixel, 0.1, 1e-12);
  EXPECT_NEAR(value(r, "UL-E_line"), -4, kTol);
  EXPECT_EQ(r.find("UL-E_line")->unit, "mm (S-N scaled)");
  EXPECT_FALSE(r.warnings.empty());
}

TEST(Units, OptionSpacingOverridesTheSetsOwn) {
  AnalysisOptions o;
  o.pixel_spacing_mm = 0.2;  // twice the fixture's 0.1 mm
  const auto r =
      analyze(profile_set({{S, {0, 0}}, {N, {70, 0}}, {A, {70, -50}}, {U1_tip, {74, -70}}}), o);
  EXPECT_NEAR(value(r, "U1-NA_mm"), 8, kTol);
  EXPECT_TRUE(r.warnings.empty());
  o.pixel_spacing_mm = -1;
  EXPECT_THROW(analyze(OriginalImageLandmarks{}, o), std::invalid_argument);
}

}  // namespace
}  // namespace cephtrace
