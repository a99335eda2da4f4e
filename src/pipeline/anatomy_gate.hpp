// The anatomical gate of Stage 1's decoding. Stage 1 sometimes answers a landmark with its
// strongest response far from where the rest of the head puts it (on ISBI Test1 + Test2,
// Ba on the chin on 7 of 173 films, about 100 mm off, with a heatmap peak of 0.5–0.6).
// The gate fits the training images' mean layout (framing.hpp) to the decoded landmarks;
// a landmark farther than kGateMm from its fitted place is decoded again from its heatmap
// inside that radius. No landmark of the training images lies farther than 15.1 mm from its
// fitted place (001–140, fit to their own 19 senior landmarks: `python3 -m
// training.framing_template --residuals`), so the gate moves only misses.
#pragma once

#include <array>

#include <opencv2/core.hpp>

#include "cephtrace/landmarks.hpp"
#include "stage1/stage1.hpp"

namespace cephtrace::anatomy_gate {

inline constexpr double kGateMm = 25.0;

// `peaks`: decoded landmarks in heatmap coordinates of `heatmaps` ((1,25,n,n) CV_32F) of a
// left-facing view of size `view`. Landmarks outside the gate are replaced by the decoding
// of their heatmap inside it; returns which were. Nothing changes when the decoded landmarks
// do not fit a head (framing::fit refuses them).
std::array<bool, kNumLandmarks> apply(const cv::Mat& heatmaps, std::array<HeatmapPeak, kNumLandmarks>& peaks,
                                      cv::Size view, Decoder decoder);

}  // namespace cephtrace::anatomy_gate
