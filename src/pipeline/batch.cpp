#include "cephtrace/batch.hpp"

#include <chrono>
#include <exception>

#include "cephtrace/image_io.hpp"

namespace cephtrace {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

BatchSummary run_batch(Predictor& predictor, const std::vector<std::filesystem::path>& images,
                       const BatchOptions& options,
                       const std::function<void(const BatchItem&)>& on_item) {
  BatchSummary summary;
  const auto run_start = Clock::now();
  for (size_t i = 0; i < images.size(); ++i) {
    BatchItem item;
    item.index = i;
    item.total = images.size();
    item.image = images[i];
    const auto start = Clock::now();
    try {
      LoadedImage image = load_image(images[i]);
      const double load_ms = ms_since(start);
      if (options.pixel_spacing_mm) image.pixel_spacing_mm = options.pixel_spacing_mm;
      PredictionResult result = options.priors
                                    ? predictor.predict_with_priors(image, options.priors(images[i]))
                                    : predictor.predict(image);
      result.timings_ms.insert(result.timings_ms.begin(), {TimedStage::LoadImage, load_ms});
      item.result = std::move(result);
      if (options.keep_pixels) item.rgb = std::move(image.rgb);
    } catch (const std::exception& e) {
      item.error = e.what();
    }
    item.ms = ms_since(start);
    ++(item.ok() ? summary.succeeded : summary.failed);
    if (on_item) on_item(item);
  }
  summary.seconds = ms_since(run_start) / 1000.0;
  return summary;
}

}  // namespace cephtrace
