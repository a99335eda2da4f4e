// The CephTrace predictor: loads the models once, then runs Stage 0 → Stage 1 → decoding
// on any number of images.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <array>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "cephtrace/constants.hpp"
#include "cephtrace/image_io.hpp"
#include "cephtrace/model_contract.hpp"  // ModelError
#include "cephtrace/original_image_landmarks.hpp"
#include "cephtrace/result.hpp"

namespace cephtrace {

// Where Stage 1's attention priors come from.
enum class PriorSource {
  Stage0,  // the anatomy-guided priors of Stage 0 (the pipeline)
  Zero,    // all-zero priors, as in degraded mode (for ablations)
};

struct PredictorOptions {
  std::filesystem::path model_dir = "models";
  // OpenCV's thread count, which is process-wide: OpenCV 4.6 has one thread pool per
  // process and no per-network or per-call count. When > 0 the constructor calls
  // cv::setNumThreads(threads), which holds for every Predictor and every other OpenCV user in
  // the process (the last one set wins); 0 leaves the process's setting as it is (OpenCV's
  // default: one per core, or $OPENCV_FOR_THREADS_NUM). OpenCV runs one parallel loop at a
  // time: a loop that another thread starts meanwhile runs on that thread alone, so Predictors
  // used from several threads share the pool rather than each getting `threads`.
  int threads = 0;
  bool strict = false;     // a missing/unloadable Stage 0 model is an error, not degraded mode
  bool use_gpu = false;    // OpenCV DNN CUDA backend (error when unavailable)
  Decoder decoder = Decoder::Reference;
  // Reference-exact Stage 0: the reference's contour-to-polyline rule (spec §4.4).
  bool reference_exact = false;
  // Force the facing direction instead of detecting it.
  std::optional<Orientation> orientation;
  PriorSource priors = PriorSource::Stage0;
  // Stage 2 local refinement passes when stage2/refine.onnx is in model_dir (ours, not in
  // the published layout; refine_2.onnx, … beside it join as an ensemble averaged in every
  // pass); 0 turns it off.
  int refine_passes = constants::kRefinePasses;
  // Stage 2 landmarks whose Stage 1 positions fit in a square of side 2 × this (refinement-
  // grid pixels, ~0.21 mm on ISBI) share one patch (fewer network runs; constants.hpp); 0:
  // a patch per landmark, as before session 12.
  double refine_share_radius = constants::kRefineShareRadius;
  // Check the model files against model_dir/MANIFEST.sha256 when there is one.
  bool verify_models = true;
  // Field-of-view normalisation: a coarse Stage 1 pass finds the head and the film is
  // resampled so that the head sits, sized and upright, as in the training images, before
  // the pipeline runs (other devices frame the head differently). Off: the film as it is.
  bool framing = true;
  // Anatomical gate of Stage 1's decoding: a landmark whose strongest response lies more than
  // 25 mm from where the rest of the head puts it is decoded again within that radius and
  // reported "relocated" with low confidence (src/pipeline/anatomy_gate.hpp).
  bool anatomy_gate = true;
  // The extended landmarks (EXTENDED_14: D, Ptm, Pt, Bo, the first molars, soft-tissue
  // points) when extended/refine_extended.onnx is in model_dir (ours): they follow the 25 in
  // the result, indices 25..38. Off, or without the file: the 25 only.
  bool extended = true;
  // The extended model's second pass refines again only the landmarks that its first pass
  // moved at least this far (refinement-grid pixels, ~0.21 mm on ISBI): the others' patch
  // would be cut about where it was. 0: all of them.
  double extended_repass_min_move = constants::kExtendedRepassMinMove;
  // The constructor calls keep_freed_memory() (below; process-wide, like `threads`).
  bool keep_freed_memory = true;
};

// Keeps freed memory in the process (glibc's malloc; elsewhere it does nothing): every film
// allocates and frees the same large buffers (the Stage 1 input, the film's views, the
// networks' inputs), which glibc would give back to the kernel, so that each film paid
// again for fresh pages: on a virtual machine 60–130 ms of a 1.5 s film (docs/benchmark.md).
// Blocks up to 32 MiB come from the heap, the heap is trimmed only beyond 1 GiB free, and
// threads share one heap (a thread's own heap is unmapped whole as soon as it is empty).
// The resident set then stays near its peak between films. Call it first thing in main():
// a thread that allocated before keeps a heap of its own. Idempotent.
void keep_freed_memory();

// Thread safety: one Predictor may be shared by several threads; predict() calls are
// serialised internally (OpenCV DNN nets are stateful). For parallel throughput, create
// one Predictor per thread.
class Predictor {
 public:
  // Throws ModelError (naming the file) when Stage 1 — or, with strict, any model — is
  // missing or does not match its contract.
  explicit Predictor(PredictorOptions options);
  ~Predictor();
  Predictor(Predictor&&) noexcept;
  Predictor& operator=(Predictor&&) noexcept;

  // Throw ImageError for unreadable input, ModelError for inference failures.
  PredictionResult predict(const std::filesystem::path& image_file);
  PredictionResult predict(std::span<const uint8_t> encoded, const std::string& name = "<memory>");
  PredictionResult predict(const cv::Mat& image);  // BGR/BGRA/grey, 8 or 16 bit
  PredictionResult predict(const LoadedImage& image);
  // Stage 1 with priors rendered at given positions (priors.points) instead of Stage 0's (e.g.
  // the ground truth, to measure what better priors would be worth). Stage 0 does not run.
  PredictionResult predict_with_priors(const LoadedImage& image, const OriginalImageLandmarks& priors);

  const PredictorOptions& options() const;
  // Keys of the models that loaded ("profile", "zone1", ..., "stage1").
  std::vector<std::string> loaded_models() const;
  // Why each Stage 0 model is unavailable (key → message); empty when all loaded.
  std::vector<std::pair<std::string, std::string>> missing_models() const;
  bool stage0_available() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cephtrace
