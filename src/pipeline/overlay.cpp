#include "cephtrace/overlay.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace cephtrace {
namespace {

// Tier colours of the reference (RGB).
cv::Scalar tier_colour(Tier tier) {
  switch (tier) {
    case Tier::High: return {16, 185, 129};
    case Tier::Medium: return {59, 130, 246};
    case Tier::Low: return {245, 158, 11};
  }
  return {255, 255, 255};
}

}  // namespace

cv::Mat draw_overlay(const cv::Mat& rgb, const PredictionResult& result,
                     const std::vector<AnalysisLine>& lines) {
  cv::Mat canvas = rgb.clone();
  const int shorter = std::min(canvas.cols, canvas.rows);
  const int radius = std::max(4, static_cast<int>(std::lround(0.005 * shorter)));
  const int thickness = std::max(1, radius / 3);
  const double font_scale = std::max(0.4, shorter / 1500.0);

  for (const auto& line : lines)
    cv::line(canvas, line.from, line.to, {255, 255, 0}, thickness, cv::LINE_AA);

  for (const auto& lm : result.landmarks) {
    const cv::Point centre(static_cast<int>(std::lround(lm.x)), static_cast<int>(std::lround(lm.y)));
    cv::circle(canvas, centre, radius, tier_colour(lm.tier), cv::FILLED, cv::LINE_AA);
    cv::circle(canvas, centre, radius, {255, 255, 255}, thickness, cv::LINE_AA);
    // White text on a dark halo stays readable on bright bone and dark air alike.
    const cv::Point at = centre + cv::Point(radius + 2, -radius - 2);
    cv::putText(canvas, lm.name, at, cv::FONT_HERSHEY_SIMPLEX, font_scale, {0, 0, 0},
                thickness + 2, cv::LINE_AA);
    cv::putText(canvas, lm.name, at, cv::FONT_HERSHEY_SIMPLEX, font_scale, {255, 255, 255},
                thickness, cv::LINE_AA);
  }
  return canvas;
}

}  // namespace cephtrace
