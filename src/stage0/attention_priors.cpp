// Phase 0E: derived landmarks from the MLP and the 25 Gaussian attention maps (spec §4.5).
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "stage0/stage0_phases.hpp"

namespace cephtrace::stage0 {

namespace c = constants;

cv::Mat mlp_input(const Anchors& anchors, cv::Size original) {
  cv::Mat input(1, 2 * kNumAnchors, CV_32F);
  for (int i = 0; i < kNumAnchors; ++i) {
    const auto& p = anchors.points[i];
    input.at<float>(0, 2 * i) =
        static_cast<float>(p ? p->x / original.width : c::kMissingAnchorValue);
    input.at<float>(0, 2 * i + 1) =
        static_cast<float>(p ? p->y / original.height : c::kMissingAnchorValue);
  }
  return input;
}

std::optional<std::array<cv::Point2d, kNumDerived>> mlp_derived(const cv::Mat& output) {
  if (output.empty() || output.type() != CV_32F || output.total() != 2 * kNumDerived ||
      !output.isContinuous())
    return std::nullopt;
  const float* v = output.ptr<float>();
  std::array<cv::Point2d, kNumDerived> derived;
  for (int i = 0; i < kNumDerived; ++i) {
    if (!std::isfinite(v[2 * i]) || !std::isfinite(v[2 * i + 1])) return std::nullopt;
    derived[i] = {v[2 * i], v[2 * i + 1]};
  }
  return derived;
}

PriorPositions assemble_prior_positions(const std::array<cv::Point2d, kNumDerived>& derived,
                                        const Anchors& anchors, const SoftTissuePoints& soft512,
                                        cv::Size original, bool render_defaulted_anchors) {
  PriorPositions positions{};
  for (int i = 0; i < kNumDerived; ++i) positions[derived_indices()[i]] = derived[i];

  for (int i = 0; i < kNumAnchors; ++i) {
    const auto& p = anchors.points[i];
    if (p)
      positions[anchor_indices()[i]] = cv::Point2d(p->x / original.width, p->y / original.height);
    else if (render_defaulted_anchors)
      positions[anchor_indices()[i]] = cv::Point2d(c::kMissingAnchorValue, c::kMissingAnchorValue);
  }

  // The soft-tissue points are in proc512 px: ×scale then ÷size is ÷512.
  const std::pair<int, const std::optional<cv::Point>*> soft[] = {
      {lm::UL, &soft512.ul}, {lm::LL, &soft512.ll}, {lm::Sn, &soft512.sn},
      {lm::Pog_soft, &soft512.pog_soft}, {lm::Pm, &soft512.pm}};
  for (const auto& [canonical, point] : soft)
    if (*point)
      positions[canonical] = cv::Point2d((*point)->x, (*point)->y) / double(c::kStage0Size);
  return positions;
}

std::vector<cv::Mat> render_priors256(const PriorPositions& positions) {
  constexpr int kSize = c::kHeatmapSize;
  std::vector<cv::Mat> maps;
  maps.reserve(kNumLandmarks);
  for (int k = 0; k < kNumLandmarks; ++k) {
    cv::Mat map = cv::Mat::zeros(kSize, kSize, CV_32F);
    if (const auto& p = positions[k]) {
      const double cx = kSize * p->x, cy = kSize * p->y;
      const double two_sigma_sq = 2.0 * std::pow(canonical_landmarks()[k].prior_sigma, 2);
      // exp(−(dx² + dy²)/2σ²) = exp(−dx²/2σ²)·exp(−dy²/2σ²): one row and one column.
      std::vector<double> gx(kSize), gy(kSize);
      for (int i = 0; i < kSize; ++i) {
        gx[i] = std::exp(-(i - cx) * (i - cx) / two_sigma_sq);
        gy[i] = std::exp(-(i - cy) * (i - cy) / two_sigma_sq);
      }
      for (int y = 0; y < kSize; ++y) {
        float* row = map.ptr<float>(y);
        for (int x = 0; x < kSize; ++x) row[x] = static_cast<float>(gy[y] * gx[x]);
      }
    }
    maps.push_back(map);
  }
  return maps;
}

std::vector<cv::Mat> upsample_priors(const std::vector<cv::Mat>& maps256) {
  std::vector<cv::Mat> maps512;
  maps512.reserve(maps256.size());
  for (const auto& map : maps256) {
    cv::Mat up;
    cv::resize(map, up, cv::Size(c::kStage1Input, c::kStage1Input), 0, 0, cv::INTER_LINEAR);
    maps512.push_back(up);
  }
  return maps512;
}

}  // namespace cephtrace::stage0
