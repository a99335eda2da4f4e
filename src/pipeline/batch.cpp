#include "cephtrace/batch.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "cephtrace/image_io.hpp"

namespace cephtrace {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Reads and predicts one image; any failure becomes the item's error.
BatchItem predict_item(Predictor& predictor, const std::vector<std::filesystem::path>& images,
                       size_t i, const BatchOptions& options) {
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
  } catch (...) {
    item.error = "unknown error";
  }
  item.ms = ms_since(start);
  return item;
}

}  // namespace

BatchSummary run_batch(Predictor& predictor, const std::vector<std::filesystem::path>& images,
                       const BatchOptions& options,
                       const std::function<void(const BatchItem&)>& on_item) {
  return run_batch(std::vector<Predictor*>{&predictor}, images, options, on_item);
}

BatchSummary run_batch(const std::vector<Predictor*>& predictors,
                       const std::vector<std::filesystem::path>& images, const BatchOptions& options,
                       const std::function<void(const BatchItem&)>& on_item) {
  if (predictors.empty()) throw std::invalid_argument("run_batch: no Predictor given");
  for (const Predictor* p : predictors)
    if (!p) throw std::invalid_argument("run_batch: a null Predictor");
  BatchSummary summary;
  const auto run_start = Clock::now();

  // Workers take the next index and park finished items here; the calling thread hands them
  // out in list order. A worker stays at most `ahead` images past the one being handed out,
  // so a slow image does not let finished ones (with their pixels) pile up.
  const size_t ahead = 2 * predictors.size();
  std::mutex mutex;
  std::condition_variable changed;
  std::map<size_t, BatchItem> done;
  size_t next_to_take = 0, next_to_hand_out = 0;
  bool stop = false;

  auto work = [&](Predictor& predictor) {
    for (;;) {
      size_t i;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return stop || next_to_take < next_to_hand_out + ahead; });
        if (stop || next_to_take >= images.size()) return;
        i = next_to_take++;
      }
      BatchItem item = predict_item(predictor, images, i, options);
      {
        std::lock_guard lock(mutex);
        done.emplace(i, std::move(item));
      }
      changed.notify_all();
    }
  };
  std::vector<std::jthread> workers;
  for (Predictor* p : predictors) workers.emplace_back(work, std::ref(*p));

  std::exception_ptr failure;
  for (size_t i = 0; i < images.size() && !failure; ++i) {
    BatchItem item;
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return done.count(i) > 0; });
      item = std::move(done.at(i));
      done.erase(i);
      next_to_hand_out = i + 1;
    }
    changed.notify_all();
    ++(item.ok() ? summary.succeeded : summary.failed);
    try {
      if (on_item) on_item(item);
    } catch (...) {
      failure = std::current_exception();
    }
  }
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  changed.notify_all();
  workers.clear();  // joins: the images in flight finish
  if (failure) std::rethrow_exception(failure);
  summary.seconds = ms_since(run_start) / 1000.0;
  return summary;
}

}  // namespace cephtrace
