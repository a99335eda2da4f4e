// Which way does the face look? The models work on LEFT-facing views (spec §3); public
// datasets face right, so the engine detects the direction and mirrors when needed.
#pragma once

#include <opencv2/core.hpp>

#include "cephtrace/result.hpp"

#include "core/onnx_model.hpp"

namespace cephtrace {

struct OrientationEstimate {
  Orientation orientation = Orientation::FacingLeft;
  double score = 0;          // > 0 favours facing left, < 0 facing right
  const char* method = "";   // "profile_mask" | "image_statistics"
  // With "profile_mask": Phase 0A's mask of the chosen (left-facing) view, ready for reuse.
  cv::Mat profile_mask512;
};

// From the soft-tissue profile model: runs it on the image and on its mirror (each prepared
// exactly as Phase 0A prepares its input) and picks the view with far more soft tissue on
// the left (anterior) side. `profile` may be null; then (and
// when both masks are empty) image statistics decide.
OrientationEstimate detect_orientation(const cv::Mat& grey_native, OnnxModel* profile);

// Model-free fallback: in a lateral cephalogram the air in front of the face and below
// the chin is dark, while the neck and cervical spine behind it are not; the darker
// lower-side column band is the facial side.
OrientationEstimate orientation_from_image_statistics(const cv::Mat& grey_native);

}  // namespace cephtrace
