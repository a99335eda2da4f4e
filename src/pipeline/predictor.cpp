#include "cephtrace/predictor.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "cephtrace/constants.hpp"
#include "cephtrace/limits.hpp"
#include "cephtrace/model_manifest.hpp"
#include "cephtrace/plausibility.hpp"
#include "cephtrace/model_contract.hpp"
#include "cephtrace/orientation.hpp"
#include "cephtrace/preprocess.hpp"
#include "cephtrace/stage0_phases.hpp"
#include "cephtrace/stage2.hpp"

namespace cephtrace {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

bool is_stage0(ModelKey key) { return key != ModelKey::Stage1 && key != ModelKey::Refine; }
bool is_zone(ModelKey key) {
  return key == ModelKey::Zone1 || key == ModelKey::Zone2 || key == ModelKey::Zone3 ||
         key == ModelKey::Zone4;
}

std::string confidence_label(double peak) {
  if (peak > constants::kHighConfidencePeak) return "high";
  if (peak > constants::kMediumConfidencePeak) return "medium";
  return "low";
}

// Stage 0 status when it could not run at all (missing models): every phase false.
void mark_stage0_unavailable(PredictionResult& result, const std::string& reason) {
  for (const char* phase : {"0A", "0B", "0C", "0D", "0E"}) {
    result.stage0_status[phase] = false;
    result.stage0_details[phase] = {{"skipped", reason}};
  }
}

}  // namespace

struct Predictor::Impl {
  PredictorOptions options;
  std::array<std::optional<OnnxModel>, kNumModels> models;
  std::vector<OnnxModel> refine;  // Stage 2, optional: refine.onnx [, refine_2.onnx, …]
  std::vector<std::string> refine_names;
  std::vector<std::pair<std::string, std::string>> missing;  // key → why
  std::mutex mutex;

  OnnxModel* model(ModelKey key) {
    auto& m = models[static_cast<size_t>(key)];
    return m ? &*m : nullptr;
  }

  bool stage0_complete() const {
    for (const auto& c : model_contracts())
      if (is_stage0(c.key) && !models[static_cast<size_t>(c.key)]) return false;
    return true;
  }

  void load_models() {
    for (const auto& contract : model_contracts()) {
      const auto file = options.model_dir / contract.relative_path;
      try {
        // Zone models with a wrong channel count load, then fail as a zone (spec §2) —
        // unless strict, where every contract violation is an error.
        models[static_cast<size_t>(contract.key)] = OnnxModel::load(
            file, contract, options.use_gpu, is_zone(contract.key) && !options.strict);
        const auto& loaded = *models[static_cast<size_t>(contract.key)];
        if (!loaded.output_matches_contract())
          missing.emplace_back(std::string(contract.name),
                               file.string() + ": output " + shape_to_string(loaded.output_shape()) +
                                   " has the wrong channel count; this zone will fail");
      } catch (const ModelError& e) {
        if (!is_stage0(contract.key) || options.strict) throw;
        missing.emplace_back(std::string(contract.name), e.what());
      }
    }
    // Stage 2 is ours and optional: absent (e.g. the published weights) means no refinement;
    // present but broken is reported like a Stage 0 model (an error with strict).
    // Ensemble members refine_2.onnx, … count only after refine.onnx, numbered without gaps.
    for (int member = 1; member <= kMaxRefineModels && options.refine_passes > 0; ++member) {
      const auto file = options.model_dir / refine_model_path(member);
      if (!std::filesystem::exists(file)) break;
      try {
        refine.push_back(OnnxModel::load(file, refine_contract(), options.use_gpu));
        refine_names.push_back(refine_model_name(member));
      } catch (const ModelError& e) {
        if (options.strict) throw;
        missing.emplace_back(refine_model_name(member), e.what());
        if (member == 1) break;
      }
    }
  }

  // How sure Stage 1 (zero priors) is that it sees a left-facing skull when the image is
  // viewed as facing `orientation`: the mean heatmap peak over the landmarks.
  double stage1_view_score(const LoadedImage& image, Orientation orientation) {
    cv::Mat rgb;  // a new buffer when flipped: the caller's image must stay untouched
    if (orientation == Orientation::FacingRight)
      cv::flip(image.rgb, rgb, 1);
    else
      rgb = image.rgb;
    const cv::Mat rgb512 =
        pillow_bilinear_resize(rgb, {constants::kStage1Input, constants::kStage1Input});
    const auto peaks = run_stage1(*model(ModelKey::Stage1), make_stage1_input(rgb512, {}),
                                  Decoder::Reference);
    double sum = 0;
    for (const auto& p : peaks) sum += p.peak;
    return sum / peaks.size();
  }

  // Detects the facing direction and runs the pipeline. When the profile masks do not decide
  // (e.g. a dark field behind the head misleads the image statistics), Stage 1 looks at both
  // views and the one it is surer of wins: Stage 1 knows the anatomy, the statistics do not.
  PredictionResult run(const LoadedImage& image, const LandmarkPositions* given = nullptr) {
    if (options.orientation) {
      PredictionResult r = run_view(image, given, *options.orientation, {});
      r.orientation_detected = false;
      return r;
    }
    const auto start = Clock::now();
    auto estimate = detect_orientation(image.grey, stage0_complete() ? model(ModelKey::Profile) : nullptr);
    std::string method = estimate.method;
    if (method != "profile_mask") {
      const Orientation other = estimate.orientation == Orientation::FacingLeft
                                    ? Orientation::FacingRight : Orientation::FacingLeft;
      if (stage1_view_score(image, other) > stage1_view_score(image, estimate.orientation))
        estimate.orientation = other;
      method = "stage1_peaks";
    }
    const double decide_ms = ms_since(start);
    PredictionResult result =
        run_view(image, given, estimate.orientation, std::move(estimate.profile_mask512));
    result.orientation_method = method;
    for (auto& [stage, ms] : result.timings_ms) {
      if (stage == "orientation") ms += decide_ms;
      if (stage == "total") ms += decide_ms;
    }
    return result;
  }

  // One pass of the pipeline on the view that faces left after mirroring for `orientation`.
  // `given` (original px) replaces Stage 0's priors when not null; `profile_mask512` is 0A's
  // mask of that view when orientation detection already computed it.
  PredictionResult run_view(const LoadedImage& image, const LandmarkPositions* given,
                            Orientation orientation, cv::Mat profile_mask512) {
    const auto start = Clock::now();
    PredictionResult result;
    result.source = image.source;
    result.original_width = image.rgb.cols;
    result.original_height = image.rgb.rows;
    result.pixel_spacing_mm = image.pixel_spacing_mm;
    result.decoder = options.decoder == Decoder::Dark ? "dark" : "reference";
    const int width = image.rgb.cols, height = image.rgb.rows;

    // The models see a left-facing view.
    auto t = Clock::now();
    const bool stage0_ok = stage0_complete();
    result.orientation = orientation;
    const bool mirrored = result.orientation == Orientation::FacingRight;
    // Flip into new buffers: the caller's image must stay untouched.
    cv::Mat grey, rgb;
    if (mirrored) {
      cv::flip(image.grey, grey, 1);
      cv::flip(image.rgb, rgb, 1);
    } else {
      grey = image.grey;
      rgb = image.rgb;
    }
    result.timings_ms.emplace_back("orientation", ms_since(t));

    // Stage 0: attention priors, or zeros in degraded mode.
    t = Clock::now();
    std::vector<cv::Mat> attention;
    if (given) {
      result.priors = "given";
      stage0::PriorPositions normalised{};
      for (int i = 0; i < kNumLandmarks; ++i)
        if ((*given)[i]) {
          const double x = mirrored ? (width - 1) - (*given)[i]->x : (*given)[i]->x;
          normalised[i] = cv::Point2d(x / width, (*given)[i]->y / height);
        }
      attention = stage0::upsample_priors(stage0::render_priors256(normalised));
      mark_stage0_unavailable(result, "priors given by the caller");
    } else if (options.priors == PriorSource::Zero) {
      result.priors = "zero";
      mark_stage0_unavailable(result, "zero priors requested");
    } else if (stage0_ok) {
      Stage0Models stage0_models{model(ModelKey::Profile),
                                 {model(ModelKey::Zone1), model(ModelKey::Zone2),
                                  model(ModelKey::Zone3), model(ModelKey::Zone4)},
                                 model(ModelKey::Derive)};
      Stage0Options stage0_options;
      stage0_options.contour_mode =
          options.reference_exact ? ContourMode::Reference : ContourMode::Centreline;
      // The reference renders anchors fed to the MLP as (0.5, 0.5) as if real.
      stage0_options.render_defaulted_anchors = options.reference_exact;
      stage0_options.profile_mask512 = profile_mask512;
      Stage0Output stage0 = run_stage0(grey, stage0_models, stage0_options);
      result.stage0_status = std::move(stage0.status);
      result.stage0_details = std::move(stage0.details);
      for (const auto& [phase, ms] : stage0.timings_ms)
        result.timings_ms.emplace_back("stage0_" + phase, ms);
      if (stage0.priors_available) attention = std::move(stage0.attention512);
    } else {
      mark_stage0_unavailable(result, "Stage 0 models not loaded");
    }
    result.degraded = attention.empty();
    if (!given)
      for (const auto& [phase, ok] : result.stage0_status.items())
        if (!ok.get<bool>()) result.degraded = true;
    result.timings_ms.emplace_back("stage0", ms_since(t));

    // Stage 1.
    t = Clock::now();
    const cv::Mat rgb512 =
        pillow_bilinear_resize(rgb, {constants::kStage1Input, constants::kStage1Input});
    const cv::Mat input = make_stage1_input(rgb512, attention);
    result.timings_ms.emplace_back("stage1_preprocess", ms_since(t));
    t = Clock::now();
    const auto peaks = run_stage1(*model(ModelKey::Stage1), input, options.decoder);
    result.timings_ms.emplace_back("stage1", ms_since(t));

    // Heatmap → original pixels (spec §5: hm/256 · W, no half-pixel shift), un-mirrored.
    const auto& table = canonical_landmarks();
    const double hm = constants::kHeatmapSize;
    for (int i = 0; i < kNumLandmarks; ++i) {
      LandmarkPrediction lm;
      lm.index = i;
      lm.name = std::string(table[i].name);
      const double x_view = peaks[i].x / hm * width;
      lm.x = mirrored ? (width - 1) - x_view : x_view;
      lm.y = peaks[i].y / hm * height;
      lm.peak = peaks[i].peak;
      lm.confidence_score = std::clamp(peaks[i].peak, 0.0, 1.0);
      lm.confidence = confidence_label(peaks[i].peak);
      lm.tier = table[i].tier;
      result.landmarks.push_back(std::move(lm));
    }

    // Stage 2: refine each landmark on a finer grid of the same (model) view.
    if (!refine.empty()) {
      t = Clock::now();
      std::array<cv::Point2d, kNumLandmarks> start;
      for (int i = 0; i < kNumLandmarks; ++i)
        start[i] = {peaks[i].x / hm * width, peaks[i].y / hm * height};
      const auto refined = refine_landmarks(refine, make_refine_grid(grey), start,
                                            options.decoder, options.refine_passes);
      for (int i = 0; i < kNumLandmarks; ++i) {
        auto& lm = result.landmarks[i];
        lm.refinement = LandmarkPrediction::Refinement{lm.x, lm.y, refined[i].peak, refined[i].applied};
        const double x_view = refined[i].position.x;
        lm.x = mirrored ? (width - 1) - x_view : x_view;
        lm.y = refined[i].position.y;
      }
      result.refinement = "stage2";
      result.timings_ms.emplace_back("stage2", ms_since(t));
    }
    for (const auto& c : model_contracts())
      if (models[static_cast<size_t>(c.key)] &&
          (c.key == ModelKey::Stage1 || (stage0_ok && result.priors == "stage0")))
        result.models_loaded.emplace_back(c.name);
    for (const auto& name : refine_names) result.models_loaded.push_back(name);
    result.timings_ms.emplace_back("total", ms_since(start));
    return result;
  }
};

Predictor::Predictor(PredictorOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  check_threads(impl_->options.threads);  // a huge count crashes OpenCV's thread pool
  cv::setNumThreads(impl_->options.threads > 0 ? impl_->options.threads : cv::getNumberOfCPUs());
  if (impl_->options.verify_models) verify_model_manifest(impl_->options.model_dir);
  impl_->load_models();
}

Predictor::~Predictor() = default;
Predictor::Predictor(Predictor&&) noexcept = default;
Predictor& Predictor::operator=(Predictor&&) noexcept = default;

PredictionResult Predictor::predict(const std::filesystem::path& image_file) {
  const auto t = Clock::now();
  LoadedImage image = load_image(image_file);
  const double load_ms = ms_since(t);
  PredictionResult result = predict(image);
  result.timings_ms.insert(result.timings_ms.begin(), {"load_image", load_ms});
  return result;
}

PredictionResult Predictor::predict(std::span<const uint8_t> encoded, const std::string& name) {
  return predict(decode_image(encoded, name));
}

PredictionResult Predictor::predict(const cv::Mat& image) { return predict(from_mat(image)); }

PredictionResult Predictor::predict(const LoadedImage& image) {
  std::lock_guard lock(impl_->mutex);
  PredictionResult result = impl_->run(image);
  check_plausibility(result);
  return result;
}

PredictionResult Predictor::predict_with_priors(const LoadedImage& image,
                                                const LandmarkPositions& priors) {
  std::lock_guard lock(impl_->mutex);
  PredictionResult result = impl_->run(image, &priors);
  check_plausibility(result);
  return result;
}

const PredictorOptions& Predictor::options() const { return impl_->options; }

std::vector<std::string> Predictor::loaded_models() const {
  std::vector<std::string> keys;
  for (const auto& c : model_contracts())
    if (impl_->models[static_cast<size_t>(c.key)]) keys.emplace_back(c.name);
  for (const auto& name : impl_->refine_names) keys.push_back(name);
  return keys;
}

std::vector<std::pair<std::string, std::string>> Predictor::missing_models() const {
  return impl_->missing;
}

bool Predictor::stage0_available() const { return impl_->stage0_complete(); }

}  // namespace cephtrace
