// The annotated overlay image (spec §7): landmarks coloured by tier, with their names.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "cephtrace/analysis.hpp"
#include "cephtrace/result.hpp"

namespace cephtrace {

// Draws on a copy of `rgb` (CV_8UC3, RGB order, the original image) and returns it (RGB).
// Optional `lines` (e.g. analysis planes) are drawn under the landmarks.
cv::Mat draw_overlay(const cv::Mat& rgb, const PredictionResult& result,
                     const std::vector<AnalysisLine>& lines = {});

}  // namespace cephtrace
