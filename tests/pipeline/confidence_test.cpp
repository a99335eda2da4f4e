// The calibrated confidence: known-answer probabilities and labels, and clear errors for a
// malformed calibration file.
#include "pipeline/confidence.hpp"

#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "core/onnx_model.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

std::filesystem::path write(const std::string& text) {
  const auto file = test::temp_dir() / "confidence.json";
  std::ofstream(file) << text;
  return file;
}

const char* kCalibration = R"({
  "features": ["bias", "stage1_peak", "stage2_peak", "log1p_moved_grid_px", "log1p_spread_grid_px"],
  "weights": [-1.0, -2.0, -3.0, 0.5, 1.0],
  "landmark_offsets": {"Go": 0.7},
  "low_at": 0.5, "medium_at": 0.2, "target": "error > 3 mm"})";

LandmarkPrediction refined(const std::string& name, double peak, double peak2, double moved, double spread) {
  LandmarkPrediction l;
  l.name = name;
  l.peak = peak;
  l.refinement = LandmarkPrediction::Refinement{0, 0, peak2, true, moved, spread};
  return l;
}

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

TEST(ConfidenceModel, ProbabilityIsTheLogisticOfTheWeightedFeatures) {
  const auto m = ConfidenceModel::load(write(kCalibration));
  const auto s = refined("S", 0.9, 0.6, 3.0, 1.0);
  EXPECT_NEAR(m.miss_probability(s),
              sigmoid(-1 - 2 * 0.9 - 3 * 0.6 + 0.5 * std::log1p(3.0) + std::log1p(1.0)), 1e-12);
  // The per-landmark offset applies to its landmark only.
  const auto go = refined("Go", 0.9, 0.6, 3.0, 1.0);
  EXPECT_NEAR(m.miss_probability(go), sigmoid(-1 - 1.8 - 1.8 + 0.5 * std::log1p(3.0) + std::log1p(1.0) + 0.7), 1e-12);
  EXPECT_EQ(m.target(), "error > 3 mm");
}

TEST(ConfidenceModel, LabelsFollowTheThresholdsAndUnrefinedPointsKeepTheirs) {
  const auto m = ConfidenceModel::load(write(kCalibration));
  PredictionResult r;
  r.landmarks = {refined("S", 0.9, 0.7, 0.5, 0.2),     // sure: high
                 refined("N", 0.1, 0.05, 40.0, 30.0),  // a wide ensemble disagreement: low
                 refined("A", 0.5, 0.3, 2.0, 1.0)};
  LandmarkPrediction unrefined;
  unrefined.name = "Or";
  unrefined.confidence = "medium";
  unrefined.confidence_score = 0.3;
  r.landmarks.push_back(unrefined);
  m.apply(r);
  EXPECT_EQ(r.confidence_method, "calibrated");
  for (int i = 0; i < 3; ++i) {
    const double miss = m.miss_probability(r.landmarks[i]);
    EXPECT_NEAR(r.landmarks[i].confidence_score, 1 - miss, 1e-12);
    EXPECT_EQ(r.landmarks[i].confidence, miss >= 0.5 ? "low" : miss >= 0.2 ? "medium" : "high") << i;
  }
  EXPECT_EQ(r.landmarks[0].confidence, "high");
  EXPECT_EQ(r.landmarks[1].confidence, "low");
  EXPECT_EQ(r.landmarks[3].confidence, "medium");
  EXPECT_EQ(r.landmarks[3].confidence_score, 0.3);
}

TEST(ConfidenceModel, MalformedFilesAreErrorsNamingTheFile) {
  std::string swapped = kCalibration;  // medium_at above low_at
  swapped.replace(swapped.find("0.5, \"medium_at\": 0.2"), 21, "0.2, \"medium_at\": 0.5");
  const std::vector<std::string> malformed = {
      "{", R"({"features": ["bias"], "weights": [1], "landmark_offsets": {}, "low_at": 0.5, "medium_at": 0.2})",
      swapped};
  for (const auto& bad : malformed) {
    const auto file = write(bad);
    try {
      ConfidenceModel::load(file);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace cephtrace
