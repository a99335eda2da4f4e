// Stage 1: heatmap regression on 3 image + 25 prior channels, and decoding (spec §5).
#pragma once

#include <array>
#include <vector>

#include <opencv2/core.hpp>

#include "cephtrace/landmarks.hpp"
#include "cephtrace/result.hpp"  // Decoder

#include "core/onnx_model.hpp"

namespace cephtrace {

struct HeatmapPeak {
  double x = 0, y = 0;  // heatmap coordinates (sub-pixel)
  double peak = 0;      // max value
};

// Builds the (1,28,512,512) input: `rgb512` is CV_8UC3 RGB 512×512 (already resized with
// the Pillow-compatible filter); `attention512` holds 25 CV_32F 512×512 maps or is empty
// (then the prior channels are zero).
cv::Mat make_stage1_input(const cv::Mat& rgb512, const std::vector<cv::Mat>& attention512);

// Decodes one heatmap (CV_32F, square) with the chosen decoder.
HeatmapPeak decode_heatmap(const cv::Mat& heatmap, Decoder decoder);

// Runs the model and decodes its 25 heatmaps (heatmap coordinates).
std::array<HeatmapPeak, kNumLandmarks> run_stage1(OnnxModel& model, const cv::Mat& input_blob,
                                                  Decoder decoder);

}  // namespace cephtrace
