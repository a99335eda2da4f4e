// Error statistics and the bootstrap CI on hand-computed cases.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "cephtrace/evaluate.hpp"

namespace cephtrace {
namespace {

TEST(Percentile, InterpolatesLinearlyBetweenOrderStatistics) {
  // Sorted {1, 2, 3, 4}: the 95th percentile sits at position 0.95·3 = 2.85.
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 95), 3.85);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0), 1);
  EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 100), 4);
  EXPECT_DOUBLE_EQ(percentile({7}, 95), 7);
}

TEST(ErrorStats, HandComputedCase) {
  const std::vector<double> errors{1, 2, 3, 4};
  const std::vector<double> thresholds{2.0, 2.5, 3.0};
  const auto s = compute_error_stats(errors, thresholds);
  EXPECT_EQ(s.n, 4u);
  EXPECT_DOUBLE_EQ(s.mre, 2.5);
  EXPECT_DOUBLE_EQ(s.sd, std::sqrt(5.0 / 3.0));  // (2.25 + 0.25 + 0.25 + 2.25) / (4 − 1)
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.p95, 3.85);
  ASSERT_EQ(s.sdr.size(), 3u);
  EXPECT_DOUBLE_EQ(s.sdr[0], 0.5);   // 1, 2
  EXPECT_DOUBLE_EQ(s.sdr[1], 0.5);   // 1, 2
  EXPECT_DOUBLE_EQ(s.sdr[2], 0.75);  // 1, 2, 3
}

TEST(ErrorStats, SdrThresholdIsInclusive) {
  const std::vector<double> thresholds{2.0};
  EXPECT_DOUBLE_EQ(compute_error_stats(std::vector<double>{2.0}, thresholds).sdr[0], 1.0);
  EXPECT_DOUBLE_EQ(compute_error_stats(std::vector<double>{2.0000001}, thresholds).sdr[0], 0.0);
  EXPECT_DOUBLE_EQ(compute_error_stats(std::vector<double>{1.9999999}, thresholds).sdr[0], 1.0);
}

TEST(ErrorStats, EmptyAndSingleObservation) {
  const std::vector<double> thresholds{2.0, 4.0};
  const auto empty = compute_error_stats({}, thresholds);
  EXPECT_EQ(empty.n, 0u);
  EXPECT_EQ(empty.sdr, (std::vector<double>{0, 0}));
  const auto one = compute_error_stats(std::vector<double>{3.0}, thresholds);
  EXPECT_DOUBLE_EQ(one.mre, 3.0);
  EXPECT_DOUBLE_EQ(one.sd, 0.0);  // undefined for n = 1; reported as 0
  EXPECT_EQ(one.sdr, (std::vector<double>{0, 1}));
}

TEST(Bootstrap, SameSeedSameIntervalOtherSeedOtherInterval) {
  std::vector<std::vector<double>> groups;
  for (int i = 0; i < 30; ++i) groups.push_back({0.1 * i, 0.05 * i * i / 10.0});
  const auto a = bootstrap_mre_ci(groups, 500, 7);
  const auto b = bootstrap_mre_ci(groups, 500, 7);
  const auto c = bootstrap_mre_ci(groups, 500, 8);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  EXPECT_TRUE(a.low != c.low || a.high != c.high);
  EXPECT_LT(a.low, a.high);
  EXPECT_EQ(a.seed, 7u);
  EXPECT_EQ(a.resamples, 500);
}

TEST(Bootstrap, ResamplesWholeImages) {
  // Image A has four errors of 0, image B one error of 4. Drawing 2 images gives a pooled mean
  // of 0 (AA, p = 1/4), 0.8 (AB/BA, p = 1/2) or 4 (BB, p = 1/4); the 2.5th and 97.5th
  // percentiles are therefore 0 and 4. An observation-level bootstrap could not produce 4.
  const auto ci = bootstrap_mre_ci({{0, 0, 0, 0}, {4}}, 4000, 1);
  EXPECT_DOUBLE_EQ(ci.low, 0.0);
  EXPECT_DOUBLE_EQ(ci.high, 4.0);
}

TEST(Bootstrap, ConstantErrorsGiveADegenerateInterval) {
  const auto ci = bootstrap_mre_ci({{1.5, 1.5}, {1.5}, {1.5, 1.5, 1.5}}, 200, 3);
  EXPECT_DOUBLE_EQ(ci.low, 1.5);
  EXPECT_DOUBLE_EQ(ci.high, 1.5);
}

}  // namespace
}  // namespace cephtrace
