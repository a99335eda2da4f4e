// Resizing exactly as the reference does (spec §3).
//
// pillow_bilinear_resize re-implements Pillow's libImaging/Resample.c (ImagingResample with
// the bilinear filter) step by step, because the Stage 1 weights were trained on
// Pillow-resized images and OpenCV has no anti-aliased bilinear filter.
#include "core/preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "cephtrace/constants.hpp"

namespace cephtrace {
namespace {

// Pillow: PRECISION_BITS = 32 - 8 - 2, so that 255 · Σk fits in a signed 32-bit int.
constexpr int kPrecisionBits = 32 - 8 - 2;

// Filter taps of one output pixel: source range [first, first + weights.size()).
struct Taps {
  int first = 0;
  std::vector<int32_t> weights;  // fixed point, 22 fractional bits
};

double triangle(double x) {
  x = std::abs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// precompute_coeffs() + normalize_coeffs_8bpc() for the whole input range (box = [0, in)).
std::vector<Taps> precompute_taps(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);  // widen the filter when shrinking
  const double support = 1.0 * filter_scale;         // bilinear support is 1
  const double inv = 1.0 / filter_scale;

  std::vector<Taps> taps(out_size);
  std::vector<double> w;
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    // Pillow rounds with (int)(v + 0.5), i.e. truncation toward zero, then clamps.
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    w.assign(std::max(xmax, 0), 0.0);
    double sum = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = triangle((x + xmin - center + 0.5) * inv);
      sum += w[x];
    }
    auto& t = taps[xx];
    t.first = xmin;
    t.weights.resize(w.size());
    for (size_t x = 0; x < w.size(); ++x) {
      const double k = sum != 0.0 ? w[x] / sum : w[x];
      const double fixed = k * (1 << kPrecisionBits);
      t.weights[x] = static_cast<int32_t>(fixed < 0 ? fixed - 0.5 : fixed + 0.5);
    }
  }
  return taps;
}

// Pillow's clip8: drop the fraction (the +0.5 rounding was added up front), clamp to 8 bits.
uint8_t clip8(int32_t v) {
  return static_cast<uint8_t>(std::clamp(v >> kPrecisionBits, 0, 255));
}

// Horizontal pass over rows [row0, row0 + out.rows) of `in`.
void resample_horizontal(const cv::Mat& in, int row0, const std::vector<Taps>& taps, cv::Mat& out) {
  const int cn = in.channels();
  for (int y = 0; y < out.rows; ++y) {
    const uint8_t* src = in.ptr<uint8_t>(row0 + y);
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int xx = 0; xx < out.cols; ++xx) {
      const Taps& t = taps[xx];
      for (int c = 0; c < cn; ++c) {
        int32_t ss = 1 << (kPrecisionBits - 1);
        for (size_t x = 0; x < t.weights.size(); ++x)
          ss += src[(t.first + x) * cn + c] * t.weights[x];
        dst[xx * cn + c] = clip8(ss);
      }
    }
  }
}

// Vertical pass; `row0` is the first source row that `in` holds.
void resample_vertical(const cv::Mat& in, int row0, const std::vector<Taps>& taps, cv::Mat& out) {
  const int width = out.cols * out.channels();
  std::vector<int32_t> acc(width);
  for (int yy = 0; yy < out.rows; ++yy) {
    const Taps& t = taps[yy];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (size_t y = 0; y < t.weights.size(); ++y) {
      const uint8_t* src = in.ptr<uint8_t>(t.first - row0 + static_cast<int>(y));
      const int32_t k = t.weights[y];
      for (int i = 0; i < width; ++i) acc[i] += src[i] * k;  // same sum order as Pillow
    }
    uint8_t* dst = out.ptr<uint8_t>(yy);
    for (int i = 0; i < width; ++i) dst[i] = clip8(acc[i]);
  }
}

}  // namespace

cv::Mat pillow_bilinear_resize(const cv::Mat& src, cv::Size size) {
  if (src.empty() || (src.type() != CV_8UC1 && src.type() != CV_8UC3))
    throw std::invalid_argument("pillow_bilinear_resize: expected a non-empty CV_8UC1 or CV_8UC3 image");
  if (size.width <= 0 || size.height <= 0)
    throw std::invalid_argument("pillow_bilinear_resize: target size must be positive, got " +
                                std::to_string(size.width) + "x" + std::to_string(size.height));
  // Image.resize returns a copy when nothing changes.
  if (src.size() == size) return src.clone();

  const auto htaps = precompute_taps(src.cols, size.width);
  const auto vtaps = precompute_taps(src.rows, size.height);
  const bool need_horizontal = size.width != src.cols;
  const bool need_vertical = size.height != src.rows;

  cv::Mat current = src;
  int row0 = 0;  // first source row held by `current`
  if (need_horizontal) {
    // Only the source rows that the vertical pass reads are resampled (as Pillow does).
    const int first = vtaps.front().first;
    const int last = vtaps.back().first + static_cast<int>(vtaps.back().weights.size());
    cv::Mat tmp(last - first, size.width, src.type());
    resample_horizontal(src, first, htaps, tmp);
    current = tmp;
    row0 = first;
  }
  if (!need_vertical) return current;
  cv::Mat out(size, src.type());
  resample_vertical(current, row0, vtaps, out);
  return out;
}

cv::Mat stage0_resize(const cv::Mat& grey) {
  if (grey.empty() || grey.type() != CV_8UC1)
    throw std::invalid_argument("stage0_resize: expected a non-empty CV_8UC1 image");
  cv::Mat out;
  const int n = constants::kStage0Size;
  cv::resize(grey, out, cv::Size(n, n), 0, 0, cv::INTER_LINEAR);
  return out;
}

}  // namespace cephtrace
