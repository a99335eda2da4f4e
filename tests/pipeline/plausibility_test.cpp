// Plausibility of a finished result (issue 17): a flat or NaN model output and landmarks
// that cannot all hold on a human skull make the result degraded, with the reason.
#include "pipeline/plausibility.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "cephtrace/landmarks.hpp"

namespace cephtrace {
namespace {

// A left-facing result in the ISBI layout (1935x2400, 0.1 mm/px): S behind N, Me below
// both, U1_tip between N and Me; peaks differ per landmark and every one is "high".
PredictionResult plausible() {
  PredictionResult r;
  r.original_width = 1935;
  r.original_height = 2400;
  r.pixel_spacing_mm = 0.1;
  r.orientation = Orientation::FacingLeft;
  for (int i = 0; i < kNumLandmarks; ++i) {
    LandmarkPrediction l;
    l.index = i;
    l.name = std::string(canonical_landmarks()[i].name);
    l.x = 1000 - 10 * i;
    l.y = 1400 + 10 * i;
    l.peak = 0.6 + 0.01 * i;
    l.confidence = "high";
    r.landmarks.push_back(l);
  }
  r.landmarks[lm::S].x = 850, r.landmarks[lm::S].y = 1000;
  r.landmarks[lm::N].x = 1550, r.landmarks[lm::N].y = 950;   // S-N 70.2 mm
  r.landmarks[lm::Me].x = 1350, r.landmarks[lm::Me].y = 2100;
  r.landmarks[lm::U1_tip].x = 1600, r.landmarks[lm::U1_tip].y = 1700;
  for (auto& l : r.landmarks) l.x = 1935 - l.x;  // mirror: the face looks left
  return r;
}

TEST(Plausibility, AReadableResultStaysAsItIs) {
  PredictionResult r = plausible();
  check_plausibility(r);
  EXPECT_FALSE(r.degraded);
  EXPECT_TRUE(r.degraded_reasons.empty());
  EXPECT_EQ(r.landmarks[lm::S].confidence, "high");
}

TEST(Plausibility, FlatStage1OutputIsDegradedAndNeverHigh) {
  PredictionResult r = plausible();
  for (auto& l : r.landmarks) l.peak = 0.93;
  check_plausibility(r);
  EXPECT_TRUE(r.degraded);
  ASSERT_FALSE(r.degraded_reasons.empty());
  EXPECT_NE(r.degraded_reasons[0].find("Stage 1 output is flat"), std::string::npos);
  for (const auto& l : r.landmarks) EXPECT_EQ(l.confidence, "low") << l.name;
}

TEST(Plausibility, NanOutputIsDegraded) {
  PredictionResult r = plausible();
  r.landmarks[lm::Go].x = std::numeric_limits<double>::quiet_NaN();
  check_plausibility(r);
  EXPECT_TRUE(r.degraded);
  EXPECT_NE(r.degraded_reasons.at(0).find("NaN"), std::string::npos);
}

TEST(Plausibility, FlatStage2OutputThatMovedTheLandmarksIsDegraded) {
  PredictionResult r = plausible();
  for (auto& l : r.landmarks) l.refinement = LandmarkPrediction::Refinement{l.x, l.y, 0.4, true};
  check_plausibility(r);
  EXPECT_TRUE(r.degraded);
  EXPECT_NE(r.degraded_reasons.at(0).find("Stage 2 output is flat"), std::string::npos);
  // The same flat peaks below the threshold moved nothing: no reason to complain.
  PredictionResult kept = plausible();
  for (auto& l : kept.landmarks) l.refinement = LandmarkPrediction::Refinement{l.x, l.y, 0.0, false};
  check_plausibility(kept);
  EXPECT_FALSE(kept.degraded);
}

// The extended model's 14 landmarks (their own peaks, no Stage 2 refinement) must not hide
// a flat Stage 1 or Stage 2; a NaN among them is still caught.
void add_extended(PredictionResult& r) {
  for (int i = kNumLandmarks; i < kNumTraced; ++i) {
    LandmarkPrediction l;
    l.index = i;
    l.name = std::string(landmark_name(i));
    l.x = 900, l.y = 1500 + i;
    l.peak = 0.2 + 0.02 * i;
    l.confidence = "medium";
    l.extended = true;
    r.landmarks.push_back(l);
  }
}

TEST(Plausibility, ExtendedLandmarksDoNotHideAFlatStage1OrStage2) {
  PredictionResult r = plausible();
  for (auto& l : r.landmarks) l.peak = 0.93;
  add_extended(r);
  check_plausibility(r);
  ASSERT_FALSE(r.degraded_reasons.empty());
  EXPECT_NE(r.degraded_reasons[0].find("Stage 1 output is flat"), std::string::npos);

  PredictionResult s = plausible();
  for (auto& l : s.landmarks) l.refinement = LandmarkPrediction::Refinement{l.x, l.y, 0.4, true};
  add_extended(s);
  check_plausibility(s);
  ASSERT_FALSE(s.degraded_reasons.empty());
  EXPECT_NE(s.degraded_reasons[0].find("Stage 2 output is flat"), std::string::npos);

  PredictionResult fine = plausible();
  add_extended(fine);
  check_plausibility(fine);
  EXPECT_FALSE(fine.degraded);
  fine.landmarks[lm::U6].y = std::numeric_limits<double>::quiet_NaN();
  check_plausibility(fine);
  EXPECT_TRUE(fine.degraded);
}

TEST(Plausibility, SellaNasionOutsideTheHumanRange) {
  PredictionResult r = plausible();
  r.pixel_spacing_mm = 1.0;  // the same pixels now span 702 mm
  check_plausibility(r);
  EXPECT_TRUE(r.degraded);
  EXPECT_NE(r.degraded_reasons.at(0).find("S-N length"), std::string::npos);
  PredictionResult unknown = plausible();
  unknown.pixel_spacing_mm.reset();
  unknown.landmarks[lm::N].x = unknown.landmarks[lm::S].x - 20;  // 20 px: 1 % of the film
  check_plausibility(unknown);
  EXPECT_TRUE(unknown.degraded);
  EXPECT_NE(unknown.degraded_reasons.at(0).find("of the image's longer side"), std::string::npos);
}

TEST(Plausibility, AnatomicalOrder) {
  PredictionResult r = plausible();
  std::swap(r.landmarks[lm::Me].y, r.landmarks[lm::N].y);  // chin above the nasion
  check_plausibility(r);
  EXPECT_TRUE(r.degraded);
  bool named = false;
  for (const auto& why : r.degraded_reasons) named = named || why.find("Me is not below N") != std::string::npos;
  EXPECT_TRUE(named);
  for (const auto& l : r.landmarks) EXPECT_EQ(l.confidence, "low") << l.name;
  PredictionResult mirrored = plausible();
  mirrored.orientation = Orientation::FacingRight;  // N then lies behind S
  check_plausibility(mirrored);
  EXPECT_TRUE(mirrored.degraded);
}

TEST(Plausibility, LowConfidenceLandmarksAreNotJudged) {
  PredictionResult r = plausible();
  r.landmarks[lm::Me].y = 500;  // above N and S
  r.landmarks[lm::Me].confidence = "low";  // but it already says it is unreliable
  check_plausibility(r);
  EXPECT_FALSE(r.degraded);
}

}  // namespace
}  // namespace cephtrace
