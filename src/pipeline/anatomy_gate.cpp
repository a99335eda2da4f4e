#include "pipeline/anatomy_gate.hpp"

#include <string>

#include <opencv2/imgproc.hpp>

#include "pipeline/framing.hpp"

namespace cephtrace::anatomy_gate {

std::array<bool, kNumLandmarks> apply(const cv::Mat& heatmaps, std::array<HeatmapPeak, kNumLandmarks>& peaks,
                                      cv::Size view, Decoder decoder) {
  std::array<bool, kNumLandmarks> moved{};
  const int n = heatmaps.size[2];
  const double to_view_x = double(view.width) / n, to_view_y = double(view.height) / n;
  std::array<std::optional<cv::Point2d>, kNumLandmarks> points;
  for (int i = 0; i < kNumLandmarks; ++i) points[i] = cv::Point2d(peaks[i].x * to_view_x, peaks[i].y * to_view_y);
  std::string why;
  const auto head = framing::fit(points, why);
  if (!head) return moved;
  const double gate_px = kGateMm / 0.1 * head->scale;  // template units are 0.1 mm
  for (int i = 0; i < kNumLandmarks; ++i) {
    const auto expected = framing::expected_position(*head, i);
    if (!expected || cv::norm(*points[i] - *expected) <= gate_px) continue;
    // The heatmap inside the gate (an ellipse on the heatmap: the view is stretched to n²).
    cv::Mat mask = cv::Mat::zeros(n, n, CV_8U);
    cv::ellipse(mask, cv::Point(int(std::lround(expected->x / to_view_x)), int(std::lround(expected->y / to_view_y))),
                cv::Size(int(std::lround(gate_px / to_view_x)), int(std::lround(gate_px / to_view_y))), 0, 0, 360,
                cv::Scalar(255), cv::FILLED);
    if (cv::countNonZero(mask) == 0) continue;
    cv::Mat gated = cv::Mat::zeros(n, n, CV_32F);
    heatmap_channel(heatmaps, i).copyTo(gated, mask);
    double best = 0;
    cv::minMaxLoc(gated, nullptr, &best);
    if (!(best > 0)) continue;  // no response at all where the landmark should be: keep it
    peaks[i] = decode_heatmap(gated, decoder);
    moved[i] = true;
  }
  return moved;
}

}  // namespace cephtrace::anatomy_gate
