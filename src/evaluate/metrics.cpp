// Error statistics and the bootstrap confidence interval.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

#include "cephtrace/evaluate.hpp"

namespace cephtrace {

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double pos = std::clamp(q, 0.0, 100.0) / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

ErrorStats compute_error_stats(std::span<const double> errors, std::span<const double> thresholds) {
  ErrorStats s;
  s.n = errors.size();
  s.sdr.assign(thresholds.size(), 0.0);
  if (errors.empty()) return s;
  const double n = static_cast<double>(s.n);
  s.mre = std::accumulate(errors.begin(), errors.end(), 0.0) / n;
  if (s.n > 1) {
    double ss = 0;
    for (double e : errors) ss += (e - s.mre) * (e - s.mre);
    s.sd = std::sqrt(ss / (n - 1));
  }
  const std::vector<double> v(errors.begin(), errors.end());
  s.median = percentile(v, 50);
  s.p95 = percentile(v, 95);
  for (size_t t = 0; t < thresholds.size(); ++t) {
    // Inclusive: an error of exactly the threshold counts as a successful detection.
    const auto hits = std::count_if(errors.begin(), errors.end(), [&](double e) { return e <= thresholds[t]; });
    s.sdr[t] = static_cast<double>(hits) / n;
  }
  return s;
}

ConfidenceInterval bootstrap_mre_ci(const std::vector<std::vector<double>>& groups, int resamples,
                                    uint64_t seed, double level) {
  ConfidenceInterval ci;
  ci.level = level;
  ci.resamples = resamples;
  ci.seed = seed;
  if (groups.empty() || resamples <= 0) return ci;
  std::vector<double> sums, counts;
  for (const auto& g : groups) {
    sums.push_back(std::accumulate(g.begin(), g.end(), 0.0));
    counts.push_back(static_cast<double>(g.size()));
  }
  // std::uniform_int_distribution differs between standard libraries; reduce mt19937_64's
  // (fully specified) output by rejection sampling instead, so a seed gives the same CI anywhere.
  std::mt19937_64 rng(seed);
  const uint64_t n = groups.size();
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  auto draw = [&] {
    uint64_t r;
    do r = rng();
    while (r >= limit);
    return r % n;
  };
  std::vector<double> means;
  means.reserve(static_cast<size_t>(resamples));
  for (int b = 0; b < resamples; ++b) {
    double sum = 0, count = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t g = draw();
      sum += sums[g];
      count += counts[g];
    }
    if (count > 0) means.push_back(sum / count);
  }
  const double alpha = (1.0 - level) / 2.0;
  ci.low = percentile(means, 100.0 * alpha);
  ci.high = percentile(means, 100.0 * (1.0 - alpha));
  return ci;
}

}  // namespace cephtrace
