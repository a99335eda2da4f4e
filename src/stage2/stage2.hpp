// Stage 2 (ours, beyond the reference): local refinement of Stage 1's landmarks.
// Stage 1 sees the whole skull at 512² and is limited by that resolution; Stage 2 looks
// again at a 128² patch around each estimate on a finer grid (constants.hpp, kRefine*).
#pragma once

#include <array>
#include <span>
#include <vector>

#include <opencv2/core.hpp>

#include "cephtrace/constants.hpp"
#include "cephtrace/landmarks.hpp"

#include "core/onnx_model.hpp"
#include "stage1/stage1.hpp"

namespace cephtrace {

// The grey image resampled for refinement, with the scale between the two pixel grids.
struct RefineGrid {
  cv::Mat grey;            // CV_8UC1, sqrt(cols·rows) ≈ kRefineGridExtent
  double sx = 1, sy = 1;   // grid pixels per original pixel
  cv::Point2d to_grid(cv::Point2d original) const;    // pixel-centre convention
  cv::Point2d to_original(cv::Point2d grid) const;
};
RefineGrid make_refine_grid(const cv::Mat& grey);

// The model input for one patch: a 128² CV_32F map cut at integer origin round(c) − 64
// (zero outside the image), z-scored, written into `out` (allocated when it is not already
// 128² CV_32F, e.g. a plane of the model's input blob). Returns the origin.
cv::Point make_refine_patch(const cv::Mat& grid_grey, cv::Point2d centre, cv::Mat& out);

struct RefinedLandmark {
  cv::Point2d position;  // original pixels (of the image given to refine_landmarks)
  double peak = 0;       // heatmap peak of the last pass that refined it (mean over the models)
  bool applied = false;  // false: peak too low, the start position was kept
  // How far Stage 2 moved the landmark, and how far apart the ensemble members put it (RMS
  // distance from their mean; 0 with one model), both in refinement-grid pixels of the last
  // pass: large values mark landmarks that the models are unsure of.
  double moved_grid_px = 0;
  double spread_grid_px = 0;
};

// Which patch each landmark is read from: landmarks whose positions fit in a square of side
// 2·share_radius share one patch, centred on that square (greedy, in landmark order, each
// seed gathering its nearest neighbours first). Radius 0: a patch per landmark (landmarks
// at the very same position share one, which gives the same answer).
struct PatchPlan {
  std::vector<cv::Point2d> centres;  // one per patch
  std::vector<int> patch_of;         // per landmark
};
PatchPlan plan_patches(std::span<const cv::Point2d> positions, double share_radius);

// Refines start positions (original pixels of `grey`; the 25 canonical landmarks for Stage 2,
// the 14 extended ones for the extended model) with `passes` passes, each
// re-centring the patches on the previous result. With several models (an ensemble) every
// pass cuts the patches once, runs each model on them and averages the decoded positions:
// independently trained models err differently, so their mean errs less. Positions whose
// last-pass peak is below kRefineMinPeak keep their start position. The patches go through
// each model `patches_per_forward` at a time (the answer is the same for any count). A model for
// n landmarks maps (k,1,128,128) to (k,n,64,64) and finds every landmark in the patch, each in
// its channel: landmark i is read from channel i of the patch of its group (plan_patches with
// `share_radius`, refinement-grid pixels; 0: a patch per landmark). `parallel_models`: the
// models run side by side, one thread each (the same answer as one after another).
// `repass_min_move` (refinement-grid pixels): a pass after the first refines again only the
// landmarks that the pass before moved at least this far (the others' patch would be cut
// about where it was); 0: every landmark in every pass.
std::vector<RefinedLandmark> refine_landmarks(std::span<OnnxModel> models, const RefineGrid& grid,
                                              std::span<const cv::Point2d> start, Decoder decoder,
                                              int passes,
                                              int patches_per_forward = constants::kRefinePatchesPerForward,
                                              double share_radius = 0, double repass_min_move = 0,
                                              bool parallel_models = true);

}  // namespace cephtrace
