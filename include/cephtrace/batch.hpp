// Running one Predictor over a list of image files: the loop that `cephtrace predict
// --image-dir`, `cephtrace evaluate` and the benchmark share. What is done with each result
// (printing, saving, overlays, scoring) is the caller's, in a callback per image.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "cephtrace/predictor.hpp"

namespace cephtrace {

struct BatchOptions {
  // mm per pixel recorded in every result, overriding what an image's header says.
  std::optional<double> pixel_spacing_mm;
  // Hand each image's RGB pixels to the callback (BatchItem::rgb), e.g. for overlays.
  bool keep_pixels = false;
  // Stage 1 priors for each image instead of Stage 0's (Predictor::predict_with_priors); it
  // may throw to fail that image. Empty: the pipeline's own priors.
  std::function<OriginalImageLandmarks(const std::filesystem::path& image)> priors;
};

// One finished image, as the callback sees it.
struct BatchItem {
  size_t index = 0;  // position in the list, from 0
  size_t total = 0;  // length of the list
  std::filesystem::path image;
  std::optional<PredictionResult> result;  // empty when the image failed
  std::string error;                       // why it failed
  cv::Mat rgb;                             // the image's pixels, with keep_pixels
  double ms = 0;                           // wall time for this image: reading it included
  bool ok() const { return result.has_value(); }
};

struct BatchSummary {
  size_t succeeded = 0, failed = 0;
  double seconds = 0;  // wall time of the whole run
};

// Predicts every image and calls `on_item` once for each, on the calling thread, in list
// order. An image that fails (unreadable, refused by a limit, a model error) is reported to
// `on_item` with its error, and the run goes on; an exception `on_item` throws ends the run
// (the images in flight finish first). The results carry "load_image" in their timings, as
// Predictor::predict(path).
//
// Reading and predicting run on worker threads, one per Predictor given, while `on_item`
// (writing files, say) runs on the calling thread: with one Predictor the next image is read
// and predicted while the last one is written; with several, that many images are in flight
// at once. A Predictor serialises its own calls, so parallel images need one Predictor (one
// set of models in memory) each; set PredictorOptions::threads so that jobs x threads fits the
// cores (OpenCV's thread pool is process-wide).
BatchSummary run_batch(Predictor& predictor, const std::vector<std::filesystem::path>& images,
                       const BatchOptions& options = {},
                       const std::function<void(const BatchItem&)>& on_item = {});
BatchSummary run_batch(const std::vector<Predictor*>& predictors,
                       const std::vector<std::filesystem::path>& images,
                       const BatchOptions& options = {},
                       const std::function<void(const BatchItem&)>& on_item = {});

}  // namespace cephtrace
