// Resizing exactly as the reference does (spec §3).
#pragma once

#include <opencv2/core.hpp>

namespace cephtrace {

// Pillow's Image.resize(..., BILINEAR): separable triangle filter whose support widens
// by the scale factor when shrinking (anti-aliased), fixed-point rounding like Pillow.
// Works on CV_8UC1 and CV_8UC3.
cv::Mat pillow_bilinear_resize(const cv::Mat& src, cv::Size size);

// Stage 0 path: OpenCV INTER_LINEAR to 512×512 (CV_8UC1 in and out).
cv::Mat stage0_resize(const cv::Mat& grey);

}  // namespace cephtrace
