// Phase 0E: MLP input/output, assembling the 25 positions, Gaussian priors.
#include <cmath>

#include <gtest/gtest.h>

#include "stage0/stage0_phases.hpp"

namespace cephtrace::stage0 {
namespace {

int slot_of(int canonical) {
  const auto& order = anchor_indices();
  return static_cast<int>(std::find(order.begin(), order.end(), canonical) - order.begin());
}

TEST(MlpInput, AnchorsNormalisedMissingAsHalf) {
  Anchors anchors;
  anchors.points[slot_of(lm::S)] = cv::Point2d(500, 300);
  anchors.points[slot_of(lm::Prn)] = cv::Point2d(100, 900);
  const cv::Mat in = mlp_input(anchors, {1000, 1200});
  ASSERT_EQ(in.rows, 1);
  ASSERT_EQ(in.cols, 14);
  ASSERT_EQ(in.type(), CV_32F);
  for (int i = 0; i < kNumAnchors; ++i) {
    const float x = in.at<float>(0, 2 * i), y = in.at<float>(0, 2 * i + 1);
    if (i == slot_of(lm::S)) {
      EXPECT_FLOAT_EQ(x, 0.5f);
      EXPECT_FLOAT_EQ(y, 0.25f);
    } else if (i == slot_of(lm::Prn)) {
      EXPECT_FLOAT_EQ(x, 0.1f);
      EXPECT_FLOAT_EQ(y, 0.75f);
    } else {
      EXPECT_FLOAT_EQ(x, 0.5f);
      EXPECT_FLOAT_EQ(y, 0.5f);
    }
  }
}

TEST(MlpOutput, ParsesDerived18AndRejectsBadShapes) {
  cv::Mat out(1, 36, CV_32F);
  for (int i = 0; i < 36; ++i) out.at<float>(0, i) = i / 100.0f;
  const auto derived = mlp_derived(out);
  ASSERT_TRUE(derived.has_value());
  EXPECT_FLOAT_EQ((*derived)[3].x, 0.06f);
  EXPECT_FLOAT_EQ((*derived)[3].y, 0.07f);
  EXPECT_FALSE(mlp_derived(cv::Mat(1, 34, CV_32F, cv::Scalar(0))).has_value());
  out.at<float>(0, 5) = NAN;
  EXPECT_FALSE(mlp_derived(out).has_value());
}

TEST(PriorPositions, OverridePrecedence) {
  std::array<cv::Point2d, kNumDerived> derived;
  for (int i = 0; i < kNumDerived; ++i) derived[i] = {0.01 * (i + 1), 0.02 * (i + 1)};
  Anchors anchors;
  anchors.points[slot_of(lm::S)] = cv::Point2d(200, 100);
  SoftTissuePoints soft;
  soft.ul = cv::Point(128, 256);
  soft.pm = cv::Point(64, 384);
  const cv::Size original(800, 400);

  const PriorPositions p = assemble_prior_positions(derived, anchors, soft, original, false);
  // Derived landmarks sit where the MLP put them.
  for (int i = 0; i < kNumDerived; ++i) {
    const int k = derived_indices()[i];
    if (k == lm::UL || k == lm::Pm) continue;
    ASSERT_TRUE(p[k].has_value());
    EXPECT_EQ(*p[k], derived[i]) << canonical_landmarks()[k].name;
  }
  // Anchors normalised by the original size; soft-tissue points by 512 (proc512 px).
  EXPECT_EQ(*p[lm::S], cv::Point2d(0.25, 0.25));
  EXPECT_EQ(*p[lm::UL], cv::Point2d(0.25, 0.5));
  EXPECT_EQ(*p[lm::Pm], cv::Point2d(0.125, 0.75));
  // Missing anchors: absent, or at (0.5, 0.5) in reference behaviour.
  EXPECT_FALSE(p[lm::N].has_value());
  EXPECT_FALSE(p[lm::Prn].has_value());
  const PriorPositions ref = assemble_prior_positions(derived, anchors, soft, original, true);
  EXPECT_EQ(*ref[lm::N], cv::Point2d(0.5, 0.5));
  EXPECT_EQ(*ref[lm::S], cv::Point2d(0.25, 0.25));
}

TEST(Priors, GaussianPeakWidthAndAbsentChannels) {
  PriorPositions p{};
  p[lm::S] = cv::Point2d(100 / 256.0, 60 / 256.0);      // on the integer grid
  p[lm::Ba] = cv::Point2d(128.5 / 256.0, 200 / 256.0);  // half-way between pixels
  const std::vector<cv::Mat> maps = render_priors256(p);
  ASSERT_EQ(maps.size(), size_t(kNumLandmarks));

  const cv::Mat& s = maps[lm::S];
  ASSERT_EQ(s.size(), cv::Size(256, 256));
  ASSERT_EQ(s.type(), CV_32F);
  double max_value;
  cv::Point max_at;
  cv::minMaxLoc(s, nullptr, &max_value, nullptr, &max_at);
  EXPECT_FLOAT_EQ(static_cast<float>(max_value), 1.0f);
  EXPECT_EQ(max_at, cv::Point(100, 60));
  const double sigma_s = canonical_landmarks()[lm::S].prior_sigma;  // 6
  EXPECT_NEAR(s.at<float>(60, 100 + static_cast<int>(sigma_s)), std::exp(-0.5), 1e-6);
  EXPECT_NEAR(s.at<float>(60 + 3, 100 + 4), std::exp(-25 / (2 * sigma_s * sigma_s)), 1e-6);

  // Ba (σ = 22) straddles two columns equally.
  const cv::Mat& ba = maps[lm::Ba];
  EXPECT_FLOAT_EQ(ba.at<float>(200, 128), ba.at<float>(200, 129));
  const double sigma_ba = canonical_landmarks()[lm::Ba].prior_sigma;
  EXPECT_NEAR(ba.at<float>(200, 128), std::exp(-0.25 / (2 * sigma_ba * sigma_ba)), 1e-6);

  for (int k = 0; k < kNumLandmarks; ++k)
    if (k != lm::S && k != lm::Ba) {
      EXPECT_EQ(cv::countNonZero(maps[k]), 0) << k;
    }
}

TEST(Priors, UpsampledTo512WithTheSamePeak) {
  PriorPositions p{};
  p[lm::Me] = cv::Point2d(0.5, 0.25);  // (128, 64) on the 256 grid
  const std::vector<cv::Mat> maps = upsample_priors(render_priors256(p));
  ASSERT_EQ(maps.size(), size_t(kNumLandmarks));
  for (const auto& m : maps) ASSERT_EQ(m.size(), cv::Size(512, 512));
  double max_value;
  cv::Point max_at;
  cv::minMaxLoc(maps[lm::Me], nullptr, &max_value, nullptr, &max_at);
  EXPECT_GT(max_value, 0.99);
  EXPECT_NEAR(max_at.x, 256.5, 1.0);  // 256-grid pixel 128 covers 512-grid 256..257
  EXPECT_NEAR(max_at.y, 128.5, 1.0);
  EXPECT_EQ(cv::countNonZero(maps[lm::S]), 0);
}

}  // namespace
}  // namespace cephtrace::stage0
