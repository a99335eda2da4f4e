// Clinical measures from predicted vs true landmarks (EvaluationOptions::measures): known
// errors from landmarks moved by known amounts, the clinical reading, and the counts.
#include <cmath>
#include <numbers>
#include <string>

#include <gtest/gtest.h>

#include "cephtrace/analysis.hpp"
#include "cephtrace/evaluate.hpp"

namespace cephtrace {
namespace {

// S and N on a horizontal line, the face looking right (N in front of S), image pixels.
constexpr double kSx = 300, kNx = 1000, kSNy = 800, kRadius = 400;

// The point seen from N at `sn_angle` degrees from N→S (so angle S–N–point = sn_angle),
// below S–N: what A and B are for SNA and SNB.
NamedPoint at_angle_from_sn(const std::string& name, double sn_angle) {
  const double phi = (180.0 - sn_angle) * std::numbers::pi / 180;  // from +x, y down
  return {name, kNx + kRadius * std::cos(phi), kSNy + kRadius * std::sin(phi)};
}

// S, N and, when given, A and B at SNA and SNB degrees.
std::vector<NamedPoint> face(std::optional<double> sna, std::optional<double> snb) {
  std::vector<NamedPoint> points{{"S", kSx, kSNy}, {"N", kNx, kSNy}};
  if (sna) points.push_back(at_angle_from_sn("A", *sna));
  if (snb) points.push_back(at_angle_from_sn("B", *snb));
  return points;
}

GroundTruth truth(const std::string& stem, std::vector<NamedPoint> points) {
  GroundTruth g;
  g.stem = stem;
  g.landmarks = std::move(points);
  g.pixel_spacing_mm = 0.1;
  return g;
}

const MeasureComparison& measure(const EvaluationReport& r, const std::string& key) {
  for (const auto& m : r.measures)
    if (m.key == key) return m;
  throw std::runtime_error("no measure " + key);
}

// Four images, all with SNA 82° and SNB 80° in truth (ANB 2°: Class I, SNA within norm):
//  1: A predicted 3° further forward (SNA 85°: above the norm; ANB 5°: Class II tendency);
//  2: A predicted 1° back (SNA 81°, ANB 1°: both readings unchanged);
//  3: the prediction lacks A;  4: the ground truth lacks A.
EvaluationReport four_images(bool measures) {
  const std::vector<GroundTruth> gt{truth("1", face(82, 80)), truth("2", face(82, 80)),
                                    truth("3", face(82, 80)), truth("4", face(std::nullopt, 80))};
  const std::vector<PredictedImage> preds{{"1.png", face(85, 80), {}},
                                          {"2.png", face(81, 80), {}},
                                          {"3.png", face(std::nullopt, 80), {}},
                                          {"4.png", face(82, 80), {}}};
  EvaluationOptions o;
  o.bootstrap_resamples = 0;
  o.measures = measures;
  return evaluate(gt, preds, o);
}

TEST(EvaluateMeasures, MovedLandmarkGivesTheKnownAngleError) {
  const auto r = four_images(true);
  const auto& sna = measure(r, "SNA");
  EXPECT_EQ(sna.analysis, "Steiner");
  EXPECT_EQ(sna.unit, "deg");
  EXPECT_EQ(sna.abs_error.n, 2u);  // images 1 and 2
  EXPECT_NEAR(sna.abs_error.mre, 2.0, 1e-9);    // (3 + 1) / 2
  EXPECT_NEAR(sna.abs_error.median, 2.0, 1e-9);
  EXPECT_NEAR(sna.bias, 1.0, 1e-9);             // (+3 − 1) / 2
  EXPECT_EQ(sna.missing_in_prediction, 1u);     // image 3
  EXPECT_EQ(sna.missing_in_truth, 1u);          // image 4
  // SNB is the same in truth and prediction on all four images.
  const auto& snb = measure(r, "SNB");
  EXPECT_EQ(snb.abs_error.n, 4u);
  EXPECT_NEAR(snb.abs_error.mre, 0.0, 1e-9);
  EXPECT_EQ(snb.same_interpretation, 4u);
}

TEST(EvaluateMeasures, ClinicalReadingAgreementIsCountedPerImage) {
  const auto r = four_images(true);
  const auto& sna = measure(r, "SNA");
  EXPECT_EQ(sna.same_interpretation, 1u);  // image 2; image 1 reads "prognathic maxilla"
  EXPECT_EQ(sna.interpretations.at("within norm").at("prognathic maxilla"), 1u);
  const auto& anb = measure(r, "ANB");
  ASSERT_EQ(anb.abs_error.n, 2u);
  EXPECT_NEAR(anb.abs_error.mre, 2.0, 1e-9);  // B did not move: the ANB error is the SNA error
  EXPECT_EQ(anb.same_interpretation, 1u);
  EXPECT_EQ(anb.interpretations.at("skeletal Class I").at("skeletal Class II tendency"), 1u);
  EXPECT_EQ(anb.interpretations.at("skeletal Class I").at("skeletal Class I"), 1u);
}

TEST(EvaluateMeasures, MeasuresWithoutTheirLandmarksAreNotCompared) {
  const auto r = four_images(true);
  // Every analyze() measure has a row, in analyze()'s order; FMA needs Po, Or, Go, Me.
  ASSERT_EQ(r.measures.size(), measurement_keys().size());
  EXPECT_EQ(r.measures.front().key, measurement_keys().front());
  const auto& fma = measure(r, "FMA");
  EXPECT_EQ(fma.abs_error.n, 0u);
  EXPECT_EQ(fma.missing_in_truth, 4u);
  EXPECT_EQ(fma.analysis, "Tweed");  // named even though no image gives it
}

TEST(EvaluateMeasures, LengthsUseThePixelSpacing) {
  // Co–A 900 px in truth, 920 px predicted (A 20 px further along the line).
  auto set = [](double a_x) { return std::vector<NamedPoint>{{"Co", 100, 500}, {"A", a_x, 500}}; };
  for (const double spacing : {0.1, 0.2}) {
    GroundTruth g = truth("1", set(1000));
    g.pixel_spacing_mm = spacing;
    EvaluationOptions o;
    o.bootstrap_resamples = 0;
    o.measures = true;
    const auto r = evaluate({g}, {{"1.png", set(1020), {}}}, o);
    const auto& co_a = measure(r, "Co-A");
    EXPECT_EQ(co_a.unit, "mm");
    ASSERT_EQ(co_a.abs_error.n, 1u);
    EXPECT_NEAR(co_a.abs_error.mre, 20 * spacing, 1e-9);
    ASSERT_EQ(r.measure_observations.size(), 1u);
    EXPECT_NEAR(r.measure_observations[0].truth, 900 * spacing, 1e-9);
  }
}

TEST(EvaluateMeasures, OnlyOnRequestAndThenInBothReports) {
  const auto without = four_images(false);
  EXPECT_TRUE(without.measures.empty());
  EXPECT_EQ(to_markdown(without).find("Clinical measures"), std::string::npos);
  EXPECT_FALSE(to_json(without).contains("measures"));

  const auto with = four_images(true);
  const std::string md = to_markdown(with);
  EXPECT_NE(md.find("Clinical measures"), std::string::npos);
  EXPECT_NE(md.find("| Steiner | SNA | deg | 2 | 2.00 | 2.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("50.0 % (1/2)"), std::string::npos) << md;
  const auto j = to_json(with);
  ASSERT_TRUE(j.contains("measures"));
  EXPECT_EQ(j["measures"][0]["key"], "SNA");
  EXPECT_EQ(j["measures"][0]["n"], 2);
  EXPECT_DOUBLE_EQ(j["measures"][0]["same_interpretation_rate"].get<double>(), 0.5);
  EXPECT_EQ(j["measure_observations"].size(), with.measure_observations.size());
}

}  // namespace
}  // namespace cephtrace
