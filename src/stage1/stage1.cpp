// Stage 1 input assembly and heatmap decoding (spec §5).
#include "stage1/stage1.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <opencv2/imgproc.hpp>

#include "cephtrace/constants.hpp"

namespace cephtrace {
namespace {

namespace k = constants;

struct Argmax {
  int x = 0, y = 0;
  double value = 0;
};

// First maximum in row-major order, like numpy.argmax (NaNs are never selected).
Argmax argmax(const cv::Mat& m) {
  Argmax best{0, 0, m.at<float>(0, 0)};
  for (int y = 0; y < m.rows; ++y) {
    const float* row = m.ptr<float>(y);
    for (int x = 0; x < m.cols; ++x)
      if (row[x] > best.value) best = {x, y, row[x]};
  }
  return best;
}

// log(max(h, floor)) of a whole map, in double precision.
cv::Mat log_map(const cv::Mat& h) {
  cv::Mat out;
  h.convertTo(out, CV_64F);
  cv::max(out, k::kLogFloor, out);
  cv::log(out, out);
  return out;
}

// Derivatives of L at (x, y) by central differences; needs 1 <= x <= cols-2 (same for y).
struct Taylor {
  double gx, gy, hxx, hyy, hxy;
};
Taylor derivatives(const cv::Mat& L, int x, int y) {
  auto at = [&](int dx, int dy) { return L.at<double>(y + dy, x + dx); };
  return {(at(1, 0) - at(-1, 0)) / 2,
          (at(0, 1) - at(0, -1)) / 2,
          at(1, 0) - 2 * at(0, 0) + at(-1, 0),
          at(0, 1) - 2 * at(0, 0) + at(0, -1),
          (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / 4};
}

// The reference's per-axis Newton step, clip(−g/(h + ε), ±0.5); NaN (0/0) becomes 0.
double axis_step(double g, double h) {
  const double step = -g / (h + k::kNewtonEpsilon);
  return std::isnan(step) ? 0.0 : std::clamp(step, -k::kReferenceMaxOffset, k::kReferenceMaxOffset);
}

void check_heatmap(const cv::Mat& h) {
  if (h.empty() || h.type() != CV_32FC1 || h.rows < 3 || h.cols < 3)
    throw std::invalid_argument("decode_heatmap: expected a CV_32FC1 heatmap of at least 3×3");
}

// "DARK-lite" (spec §5): the integer argmax kept one pixel from the border, then one
// Newton step per axis on the log heatmap without cross term or smoothing. Exact for a
// clean, axis-aligned Gaussian (its log is quadratic); computed in double where the
// reference uses float32 (differences ~1e-6 px).
HeatmapPeak decode_reference(const cv::Mat& h) {
  const Argmax m = argmax(h);
  const int x = std::clamp(m.x, 1, h.cols - 2);
  const int y = std::clamp(m.y, 1, h.rows - 2);
  // Only the 3×3 neighbourhood is needed.
  const Taylor t = derivatives(log_map(h(cv::Rect(x - 1, y - 1, 3, 3))), 1, 1);
  return {x + axis_step(t.gx, t.hxx), y + axis_step(t.gy, t.hyy), m.value};
}

// Full DARK (Zhang et al., CVPR 2020): modulate the heatmap with a Gaussian (zero outside
// the map) so that noise and non-Gaussian shapes look Gaussian again, rescale it to the
// original peak, then take the second-order Taylor step −H⁻¹g of the log map with the full
// Hessian at its maximum. The argmax is taken on the smoothed map, which noise moves less.
HeatmapPeak decode_dark(const cv::Mat& h) {
  const double peak = argmax(h).value;
  cv::Mat smooth;
  cv::GaussianBlur(h, smooth, cv::Size(k::kDarkBlurKernel, k::kDarkBlurKernel), k::kDarkBlurSigma,
                   k::kDarkBlurSigma, cv::BORDER_CONSTANT);
  const Argmax m = argmax(smooth);
  if (m.value > 0 && peak > 0) smooth *= peak / m.value;

  const int x = std::clamp(m.x, 1, h.cols - 2);
  const int y = std::clamp(m.y, 1, h.rows - 2);
  const Taylor t = derivatives(log_map(smooth(cv::Rect(x - 1, y - 1, 3, 3))), 1, 1);
  const double det = t.hxx * t.hyy - t.hxy * t.hxy;
  double ox, oy;
  if (t.hxx < 0 && det > 0) {  // negative definite: a real maximum, H invertible
    ox = -(t.hyy * t.gx - t.hxy * t.gy) / det;
    oy = -(t.hxx * t.gy - t.hxy * t.gx) / det;
  } else {  // flat or saddle-shaped: fall back to the reference per-axis step
    ox = axis_step(t.gx, t.hxx);
    oy = axis_step(t.gy, t.hyy);
  }
  ox = std::clamp(ox, -k::kDarkMaxOffset, k::kDarkMaxOffset);
  oy = std::clamp(oy, -k::kDarkMaxOffset, k::kDarkMaxOffset);
  return {x + ox, y + oy, peak};
}

}  // namespace

cv::Mat make_stage1_input(const cv::Mat& rgb512, const std::vector<cv::Mat>& attention512) {
  const int n = k::kStage1Input;
  if (rgb512.type() != CV_8UC3 || rgb512.rows != n || rgb512.cols != n)
    throw std::invalid_argument("make_stage1_input: expected a 512×512 CV_8UC3 RGB image");
  if (!attention512.empty() && static_cast<int>(attention512.size()) != kNumLandmarks)
    throw std::invalid_argument("make_stage1_input: expected 25 attention maps or none, got " +
                                std::to_string(attention512.size()));
  for (const auto& a : attention512)
    if (a.type() != CV_32FC1 || a.rows != n || a.cols != n)
      throw std::invalid_argument("make_stage1_input: attention maps must be 512×512 CV_32FC1");

  const int sizes[] = {1, k::kStage1Channels, n, n};
  cv::Mat blob(4, sizes, CV_32F, cv::Scalar(0));  // zero priors unless given
  auto plane = [&](int c) { return cv::Mat(n, n, CV_32F, blob.ptr<float>(0, c)); };

  // RGB / 255, channel-first (float division as the reference's numpy does).
  for (int c = 0; c < 3; ++c) {
    cv::Mat dst = plane(c);
    for (int y = 0; y < n; ++y) {
      const uint8_t* src = rgb512.ptr<uint8_t>(y);
      float* out = dst.ptr<float>(y);
      for (int x = 0; x < n; ++x) out[x] = static_cast<float>(src[3 * x + c]) / 255.0f;
    }
  }
  for (size_t i = 0; i < attention512.size(); ++i) attention512[i].copyTo(plane(3 + static_cast<int>(i)));
  return blob;
}

HeatmapPeak decode_heatmap(const cv::Mat& heatmap, Decoder decoder) {
  check_heatmap(heatmap);
  return decoder == Decoder::Dark ? decode_dark(heatmap) : decode_reference(heatmap);
}

std::array<HeatmapPeak, kNumLandmarks> run_stage1(OnnxModel& model, const cv::Mat& input_blob,
                                                  Decoder decoder) {
  cv::Mat out = model.forward(input_blob);
  const int n = k::kHeatmapSize;
  const std::vector<int> shape(out.size.p, out.size.p + out.dims);
  if (out.type() != CV_32F || shape != std::vector<int>{1, kNumLandmarks, n, n})
    throw ModelError(model.file().string() + ": Stage 1 output has shape " +
                     shape_to_string(shape) + ", expected (1,25,256,256) float");
  if (!out.isContinuous()) out = out.clone();

  std::array<HeatmapPeak, kNumLandmarks> peaks;
  for (int c = 0; c < kNumLandmarks; ++c)
    peaks[c] = decode_heatmap(cv::Mat(n, n, CV_32F, out.ptr<float>(0, c)), decoder);
  return peaks;
}

}  // namespace cephtrace
