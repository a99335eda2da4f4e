// Phase 0A: the soft-tissue profile mask (spec §4.1).
#include "stage0/stage0_phases.hpp"

namespace cephtrace::stage0 {

cv::Mat profile_mask_from_output(const cv::Mat& output) {
  constexpr int kSize = constants::kStage0Size;
  if (output.dims != 4 || output.type() != CV_32F || output.size[0] != 1 ||
      output.size[2] != kSize || output.size[3] != kSize)
    return {};
  const int channels = output.size[1];
  // Channel c of the (1,C,H,W) blob viewed as an H×W image (no copy).
  auto channel = [&](int c) {
    return cv::Mat(kSize, kSize, CV_32F, const_cast<float*>(output.ptr<float>(0, c)));
  };
  cv::Mat mask;
  if (channels == 1)
    mask = channel(0) > 0.0f;  // sigmoid(logit) > 0.5  ⇔  logit > 0
  else if (channels == 2)
    mask = channel(1) > channel(0);
  return mask;  // empty for any other channel count
}

}  // namespace cephtrace::stage0
