#include "cephtrace/predictor.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "cephtrace/constants.hpp"
#include "cephtrace/limits.hpp"
#include "cephtrace/model_contract.hpp"

#include "core/preprocess.hpp"
#include "pipeline/anatomy_gate.hpp"
#include "pipeline/confidence.hpp"
#include "pipeline/framing.hpp"
#include "pipeline/left_facing_view.hpp"
#include "pipeline/model_manifest.hpp"
#include "pipeline/orientation.hpp"
#include "pipeline/plausibility.hpp"
#include "stage0/stage0.hpp"
#include "stage0/stage0_phases.hpp"
#include "stage1/stage1.hpp"
#include "stage2/stage2.hpp"

namespace cephtrace {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

bool is_stage0(ModelKey key) { return static_cast<int>(key) < static_cast<int>(ModelKey::Stage1); }
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
    result.stage0_details[phase] = nlohmann::json{{"skipped", reason}}.dump();
  }
}

}  // namespace

struct Predictor::Impl {
  PredictorOptions options;
  std::array<std::optional<OnnxModel>, kNumModels> models;
  std::vector<OnnxModel> refine;  // Stage 2, optional: refine.onnx [, refine_2.onnx, …]
  std::vector<std::string> refine_names;
  std::optional<OnnxModel> extended;  // extended/refine_extended.onnx, optional
  std::optional<ConfidenceModel> confidence;  // stage2/confidence.json, with Stage 2
  std::vector<std::pair<std::string, std::string>> missing;  // key → why
  std::mutex mutex;

  // One of the published seven; nullptr when absent (Stage 2 models live in `refine`).
  OnnxModel* model(ModelKey key) {
    const auto i = static_cast<size_t>(key);
    return i < models.size() && models[i] ? &*models[i] : nullptr;
  }

  // A stage is done with these networks until the next film: their layer buffers go, so
  // that the peak memory holds one stage's (OnnxModel::release_buffers).
  void release_buffers(std::initializer_list<ModelKey> keys) {
    for (ModelKey key : keys)
      if (OnnxModel* m = model(key)) m->release_buffers();
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
    // The extended model is ours and optional like Stage 2.
    if (const auto file = options.model_dir / extended_contract().relative_path;
        options.extended && std::filesystem::exists(file)) {
      try {
        extended = OnnxModel::load(file, extended_contract(), options.use_gpu);
      } catch (const ModelError& e) {
        if (options.strict) throw;
        missing.emplace_back(std::string(extended_contract().name), e.what());
      }
    }
    const auto calibration = options.model_dir / "stage2" / "confidence.json";
    if (!refine.empty() && std::filesystem::exists(calibration))
      confidence = ConfidenceModel::load(calibration);
  }

  // How sure Stage 1 (zero priors) is that it sees a left-facing skull when the image is
  // viewed as facing `orientation`: the mean heatmap peak over the landmarks.
  double stage1_view_score(const LoadedImage& image, Orientation orientation) {
    const LeftFacingView view(image, orientation);
    const cv::Mat input = make_stage1_input(stage1_rgb512(view.stage1_pixels()), {});
    const auto peaks = run_stage1(*model(ModelKey::Stage1), input, Decoder::Reference);
    double sum = 0;
    for (const auto& p : peaks) sum += p.peak;
    return sum / peaks.size();
  }

  // The pipeline, then the calibrated confidence where the model folder has one.
  PredictionResult run(const LoadedImage& image, const OriginalImageLandmarks* given = nullptr) {
    PredictionResult result = options.framing && !given ? run_content(image) : run_oriented(image, given);
    if (confidence && result.refinement == "stage2") confidence->apply(result);
    for (auto& lm : result.landmarks)
      if (lm.relocated) lm.confidence = "low";  // the first answer was implausible: check it
    return result;
  }

  // The pipeline on the part of the film that holds the image (uniform borders cut away,
  // framing::content_box), landmarks mapped back to the whole film.
  PredictionResult run_content(const LoadedImage& image) {
    const auto start = Clock::now();
    const cv::Rect box = framing::content_box(image.grey);
    if (box == cv::Rect(0, 0, image.grey.cols, image.grey.rows)) return run_oriented(image, nullptr);
    LoadedImage content = image;  // copies: the pipeline expects continuous buffers
    content.rgb = image.rgb(box).clone();
    content.grey = image.grey(box).clone();
    const double crop_ms = ms_since(start);
    PredictionResult result = run_oriented(content, nullptr);
    for (auto& lm : result.landmarks) {
      lm.x += box.x, lm.y += box.y;
      if (lm.refinement) lm.refinement->stage1_x += box.x, lm.refinement->stage1_y += box.y;
    }
    result.original_width = image.rgb.cols;
    result.original_height = image.rgb.rows;
    if (!result.framing) result.framing.emplace();
    result.framing->content_box = std::array<int, 4>{box.x, box.y, box.width, box.height};
    for (auto& [stage, ms] : result.timings_ms)
      if (stage == TimedStage::Framing || stage == TimedStage::Total) ms += crop_ms;
    return result;
  }

  // Detects the facing direction and runs the pipeline. When the profile masks do not decide
  // (e.g. a dark field behind the head misleads the image statistics), Stage 1 looks at both
  // views and the one it is surer of wins: Stage 1 knows the anatomy, the statistics do not.
  PredictionResult run_oriented(const LoadedImage& image, const OriginalImageLandmarks* given) {
    if (options.orientation) {
      PredictionResult r = options.framing && !given ? run_framed(image, *options.orientation, {}, false)
                                                     : run_view(image, given, *options.orientation, {});
      r.orientation_detected = false;
      return r;
    }
    const auto start = Clock::now();
    // With framing, its coarse Stage 1 pass sees whether a view shows a head: the image
    // statistics' guess is framed first, and a convincing head there decides the facing
    // direction without the profile test (two Stage 0 profile passes). Otherwise the test
    // decides as without framing, and run_framed goes on from the view already framed.
    std::optional<FramedView> first;
    Orientation first_orientation = Orientation::FacingLeft;
    double first_ms = 0;
    if (options.framing && !given) {
      const auto guess = orientation_from_image_statistics(image.grey);
      const double guess_ms = ms_since(start);
      const auto t = Clock::now();
      first_orientation = guess.orientation;
      first = frame_view(image, first_orientation, false);
      first_ms = ms_since(t);
      if (first->convincing()) {
        PredictionResult result = run_framed(image, first_orientation, {}, true, std::move(first), first_ms);
        result.orientation_method = "head_fit";
        for (auto& [stage, ms] : result.timings_ms)
          if (stage == TimedStage::Orientation || stage == TimedStage::Total) ms += guess_ms;
        return result;
      }
    }
    auto estimate = detect_orientation(image.grey, stage0_complete() ? model(ModelKey::Profile) : nullptr);
    std::string method = estimate.method;
    if (method != "profile_mask") {
      const Orientation other = estimate.orientation == Orientation::FacingLeft
                                    ? Orientation::FacingRight : Orientation::FacingLeft;
      if (stage1_view_score(image, other) > stage1_view_score(image, estimate.orientation))
        estimate.orientation = other;
      method = "stage1_peaks";
    }
    const double decide_ms = ms_since(start) - first_ms;
    if (first && first_orientation != estimate.orientation) first.reset();
    PredictionResult result =
        options.framing && !given
            ? run_framed(image, estimate.orientation, std::move(estimate.profile_mask512), true,
                         std::move(first), first_ms)
            : run_view(image, given, estimate.orientation, std::move(estimate.profile_mask512));
    // The framing's head fit overruled the orientation test.
    result.orientation_method = result.orientation == estimate.orientation ? method : "framing_fit";
    for (auto& [stage, ms] : result.timings_ms)
      if (stage == TimedStage::Orientation || stage == TimedStage::Total) ms += decide_ms;
    return result;
  }

  // A left-facing view of the film and the framing that a coarse Stage 1 pass finds in it.
  struct FramedView {
    LeftFacingView view;
    std::optional<framing::Framing> framing;
    std::string why;         // when framing is empty
    double mean_peak = 0;    // how sure the coarse Stage 1 pass is that it sees a head
    bool convincing() const {  // a head as the training images show it: look no further
      return framing && framing->inliers >= framing::kConvincingInliers &&
             framing->residual_mm <= framing::kSuspectResidualMm;
    }
  };
  // Coarse landmarks: Stage 1 with zero priors on `pixels` (a view's stage1_pixels(), or those
  // resampled), in their pixels; their mean peak says how sure Stage 1 is that it sees a head.
  std::array<std::optional<cv::Point2d>, kNumLandmarks> coarse_landmarks(const cv::Mat& pixels, double& mean_peak) {
    const auto peaks = run_stage1(*model(ModelKey::Stage1), make_stage1_input(stage1_rgb512(pixels), {}),
                                  Decoder::Reference);
    std::array<std::optional<cv::Point2d>, kNumLandmarks> coarse;
    const double hm = constants::kHeatmapSize;
    mean_peak = 0;
    for (int i = 0; i < kNumLandmarks; ++i) {
      coarse[i] = cv::Point2d(peaks[i].x / hm * pixels.cols, peaks[i].y / hm * pixels.rows);
      mean_peak += peaks[i].peak / kNumLandmarks;
    }
    return coarse;
  }

  // The view of the film for `orientation` (`inverted`: its look-up table taken as inverted,
  // bone dark, and undone) and the framing that coarse Stage 1 passes find in it. A head
  // that is small or tilted on the film can give a poor first fit; then further passes on the
  // film resampled by the latest guess find the landmarks again, where Stage 1 sees the head
  // more as it was trained to.
  FramedView frame_view(const LoadedImage& image, Orientation orientation, bool inverted) {
    FramedView f;
    f.view = LeftFacingView(image, orientation);
    if (inverted) f.view = f.view.inverted();
    auto coarse = coarse_landmarks(f.view.stage1_pixels(), f.mean_peak);
    f.framing = framing::fit(coarse, f.why);
    const cv::Scalar fill = cv::Scalar::all(framing::border_grey(f.view.grey()));
    for (int pass = 1; pass < framing::kMaxCoarsePasses && !f.convincing(); ++pass) {
      std::string why;
      const auto guess = framing::fit(coarse, why, /*loose=*/true);
      if (!guess) break;
      double peak = 0;
      coarse = coarse_landmarks(framing::resample(f.view.stage1_pixels(), *guess, fill), peak);
      for (auto& p : coarse) p = framing::to_view(*guess, *p);
      auto refit = framing::fit(coarse, why);
      if (refit && (!f.framing || refit->inliers > f.framing->inliers ||
                    (refit->inliers == f.framing->inliers && refit->residual_mm < f.framing->residual_mm))) {
        f.framing = refit;
        f.mean_peak = peak;
      } else if (!f.framing) {
        f.why = why;
      }
    }
    release_buffers({ModelKey::Stage1});  // Stage 0 runs before Stage 1's next pass
    return f;
  }

  // The pipeline on a canvas where the head sits as in the training images (framing.hpp),
  // landmarks mapped back to the film. Falls back to the film as it is when the coarse pass
  // does not find a plausible head. When the coarse landmarks do not convincingly fit a head,
  // the mirrored view (when the orientation was detected: `may_turn`) and the inverted
  // look-up table are tried too, and of the views whose landmarks fit a head the one Stage 1
  // is surest of wins: wide borders can mislead the profile test, and an inverted film (bone
  // dark) defeats the networks, but the anatomy tells.
  // `first`: the view for `orientation`, not inverted, already framed (in `first_ms`).
  PredictionResult run_framed(const LoadedImage& image, Orientation orientation,
                              cv::Mat profile_mask512, bool may_turn,
                              std::optional<FramedView> first = {}, double first_ms = 0) {
    const auto start = Clock::now() - std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double, std::milli>(first_ms));
    const Orientation other =
        orientation == Orientation::FacingLeft ? Orientation::FacingRight : Orientation::FacingLeft;
    std::vector<std::pair<Orientation, bool>> views{{orientation, false}};
    if (may_turn) views.emplace_back(other, false);
    views.emplace_back(orientation, true);
    if (may_turn) views.emplace_back(other, true);
    FramedView framed;
    bool inverted = false;
    const Orientation detected = orientation;
    // Another view replaces the detected one when it convincingly shows a head or, when no
    // view does, when its landmarks fit a head with more inliers and Stage 1 is surer of it
    // than of the detected view (an inverted film's head fits just outside "convincing").
    auto better = [](const FramedView& candidate, const FramedView& kept) {
      if (candidate.convincing()) return true;
      if (!candidate.framing || candidate.mean_peak <= kept.mean_peak) return false;
      return !kept.framing || candidate.framing->inliers > kept.framing->inliers;
    };
    for (const auto& [o, inv] : views) {
      if (framed.convincing()) break;
      FramedView candidate = first && o == detected && !inv ? std::move(*first) : frame_view(image, o, inv);
      if (framed.view.rgb().empty() || better(candidate, framed)) {
        framed = std::move(candidate);
        orientation = o;
        inverted = inv;
      }
    }
    if (orientation != detected) profile_mask512 = cv::Mat();  // the mask was of the other view
    const int width = image.rgb.cols, height = image.rgb.rows;
    const LeftFacingView& view = framed.view;
    const auto& framing = framed.framing;
    if (!framing) {  // the first view (as detected, not inverted) was kept
      const double framing_ms = ms_since(start);  // before run_view, which times itself
      PredictionResult result = run_view(image, nullptr, orientation, std::move(profile_mask512));
      result.framing.emplace();
      result.framing->applied = false;
      result.framing->reason = framed.why;
      add_timing(result, TimedStage::Framing, framing_ms);
      return result;
    }
    const double fill = framing::border_grey(view.grey());
    LoadedImage canvas;
    canvas.source = image.source;
    canvas.pixel_spacing_mm = image.pixel_spacing_mm;
    canvas.grey = framing::resample(view.grey(), *framing, cv::Scalar::all(fill));
    canvas.rgb_is_grey = view.rgb_is_grey();
    if (canvas.rgb_is_grey)
      cv::cvtColor(canvas.grey, canvas.rgb, cv::COLOR_GRAY2RGB);
    else
      canvas.rgb = framing::resample(view.rgb(), *framing, cv::Scalar::all(fill));
    const double framing_ms = ms_since(start);

    PredictionResult result = run_view(canvas, nullptr, Orientation::FacingLeft, {});
    auto to_film = [&](double& x, double& y) {
      const cv::Point2d p = view.to_original(framing::to_view(*framing, {x, y}));
      x = p.x;
      y = p.y;
    };
    for (auto& lm : result.landmarks) {
      to_film(lm.x, lm.y);
      if (lm.refinement) to_film(lm.refinement->stage1_x, lm.refinement->stage1_y);
    }
    result.original_width = width;
    result.original_height = height;
    result.orientation = orientation;
    FramingReport& report = result.framing.emplace();
    report.applied = true;
    report.scale = framing->scale;
    report.rotation_deg = framing->rotation_deg;
    report.canvas_width = framing->canvas.width;
    report.canvas_height = framing->canvas.height;
    report.residual_mm = framing->residual_mm;
    report.inliers = framing->inliers;
    report.inverted = inverted;
    report.coarse_mean_peak = framed.mean_peak;
    add_timing(result, TimedStage::Framing, framing_ms);
    return result;
  }

  // Adds a stage's time before "total", and to the total.
  static void add_timing(PredictionResult& result, TimedStage stage, double ms) {
    auto total = std::find_if(result.timings_ms.begin(), result.timings_ms.end(),
                              [](const auto& t) { return t.first == TimedStage::Total; });
    if (total != result.timings_ms.end()) total->second += ms;
    result.timings_ms.insert(result.timings_ms.begin(), {stage, ms});
  }

  // One pass of the pipeline on the view that faces left after mirroring for `orientation`.
  // `given` (original px) replaces Stage 0's priors when not null; `profile_mask512` is 0A's
  // mask of that view when orientation detection already computed it.
  PredictionResult run_view(const LoadedImage& image, const OriginalImageLandmarks* given,
                            Orientation orientation, const cv::Mat& profile_mask512) {
    const auto start = Clock::now();
    PredictionResult result = result_for(image, orientation);
    auto t = Clock::now();
    const LeftFacingView view(image, orientation);
    result.timings_ms.emplace_back(TimedStage::Orientation, ms_since(t));
    t = Clock::now();
    const std::vector<cv::Mat> attention =
        given ? given_priors(*given, view, result) : stage0_priors(view.grey(), profile_mask512, result);
    release_buffers({ModelKey::Profile, ModelKey::Zone1, ModelKey::Zone2, ModelKey::Zone3, ModelKey::Zone4});
    result.timings_ms.emplace_back(TimedStage::Stage0, ms_since(t));
    const auto [peaks, relocated] = stage1(view.stage1_pixels(), attention, result);
    release_buffers({ModelKey::Stage1});
    result.landmarks = landmarks_of(peaks, view);
    for (int i = 0; i < kNumLandmarks; ++i) result.landmarks[i].relocated = relocated[i];
    // Stage 2 and the extended model look at the same resampled grid: made once.
    std::optional<RefineGrid> grid;
    if (!refine.empty() || extended) grid = make_refine_grid(view.grey());
    if (!refine.empty()) refine_in_view(view, *grid, peaks, result);
    for (auto& m : refine) m.release_buffers();
    if (extended) extend_in_view(view, *grid, result);
    if (extended) extended->release_buffers();
    result.models_loaded = models_that_ran(result);
    result.timings_ms.emplace_back(TimedStage::Total, ms_since(start));
    return result;
  }

  // A result for `image` before anything ran.
  PredictionResult result_for(const LoadedImage& image, Orientation orientation) const {
    PredictionResult result;
    result.source = image.source;
    result.original_width = image.rgb.cols;
    result.original_height = image.rgb.rows;
    result.pixel_spacing_mm = image.pixel_spacing_mm;
    result.decoder = options.decoder == Decoder::Dark ? "dark" : "reference";
    result.orientation = orientation;
    return result;
  }

  // Attention priors rendered at the caller's positions (original px) instead of Stage 0's.
  std::vector<cv::Mat> given_priors(const OriginalImageLandmarks& given, const LeftFacingView& view,
                                    PredictionResult& result) {
    result.priors = "given";
    mark_stage0_unavailable(result, "priors given by the caller");
    stage0::PriorPositions normalised{};
    for (int i = 0; i < kNumLandmarks; ++i)
      if (const auto& p = given.points[i]) {
        const cv::Point2d v = view.to_view(*p);
        normalised[i] = cv::Point2d(v.x / view.width(), v.y / view.height());
      }
    result.degraded = false;
    return stage0::upsample_priors(stage0::render_priors256(normalised));
  }

  // Stage 0's attention priors for the left-facing `grey`; none (degraded mode) when zero
  // priors are asked for, a model is missing or Stage 0 does not find the anatomy.
  std::vector<cv::Mat> stage0_priors(const cv::Mat& grey, const cv::Mat& profile_mask512,
                                     PredictionResult& result) {
    result.degraded = true;  // unless every phase succeeds
    if (options.priors == PriorSource::Zero) {
      result.priors = "zero";
      mark_stage0_unavailable(result, "zero priors requested");
      return {};
    }
    if (!stage0_complete()) {
      mark_stage0_unavailable(result, "Stage 0 models not loaded");
      return {};
    }
    Stage0Models stage0_models{model(ModelKey::Profile),
                               {model(ModelKey::Zone1), model(ModelKey::Zone2),
                                model(ModelKey::Zone3), model(ModelKey::Zone4)},
                               model(ModelKey::Derive)};
    Stage0Options stage0_options;
    stage0_options.contour_mode =
        options.reference_exact ? ContourMode::Reference : ContourMode::Centreline;
    // The reference renders anchors fed to the MLP as (0.5, 0.5) as if real.
    stage0_options.render_defaulted_anchors = options.reference_exact;
    Stage0Output stage0 = run_stage0(grey, stage0_models, stage0_options, profile_mask512);
    for (const auto& [phase, ok] : stage0.status.items()) result.stage0_status[phase] = ok.get<bool>();
    for (const auto& [phase, details] : stage0.details.items()) result.stage0_details[phase] = details.dump();
    for (const auto& [phase, ms] : stage0.timings_ms) result.timings_ms.emplace_back(stage0_phase(phase), ms);
    result.degraded = !stage0.priors_available;
    for (const auto& [phase, ok] : result.stage0_status)
      if (!ok) result.degraded = true;
    if (!stage0.priors_available) return {};
    return std::move(stage0.attention512);
  }

  static TimedStage stage0_phase(const std::string& phase) {
    static const std::map<std::string, TimedStage> stages{
        {"0A", TimedStage::Stage0A}, {"0B", TimedStage::Stage0B}, {"0C", TimedStage::Stage0C},
        {"0D", TimedStage::Stage0D}, {"0E", TimedStage::Stage0E}};
    return stages.at(phase);
  }

  // Stage 1's decoded landmarks (heatmap coordinates), and which of them the anatomical gate
  // decoded again.
  struct Stage1Answer {
    std::array<HeatmapPeak, kNumLandmarks> peaks;
    std::array<bool, kNumLandmarks> relocated{};
  };
  // Stage 1's 512² RGB input from `pixels` (RGB, or grey that the RGB only repeats: resized,
  // then repeated, it gives the same pixels as the RGB resized).
  static cv::Mat stage1_rgb512(const cv::Mat& pixels) {
    cv::Mat out = pillow_bilinear_resize(pixels, {constants::kStage1Input, constants::kStage1Input});
    if (out.channels() == 1) cv::cvtColor(out, out, cv::COLOR_GRAY2RGB);
    return out;
  }

  // Stage 1 on the left-facing view's stage1_pixels() with `attention` (none: zero priors).
  Stage1Answer stage1(const cv::Mat& pixels, const std::vector<cv::Mat>& attention, PredictionResult& result) {
    auto t = Clock::now();
    const cv::Mat input = make_stage1_input(stage1_rgb512(pixels), attention);
    result.timings_ms.emplace_back(TimedStage::Stage1Preprocess, ms_since(t));
    t = Clock::now();
    const cv::Mat heatmaps = run_stage1_heatmaps(*model(ModelKey::Stage1), input);
    Stage1Answer answer;
    for (int i = 0; i < kNumLandmarks; ++i)
      answer.peaks[i] = decode_heatmap(heatmap_channel(heatmaps, i), options.decoder);
    if (options.anatomy_gate)
      answer.relocated = anatomy_gate::apply(heatmaps, answer.peaks, pixels.size(), options.decoder);
    result.timings_ms.emplace_back(TimedStage::Stage1, ms_since(t));
    return answer;
  }

  // A heatmap peak's position in the view's pixels (spec §5: hm/256 · W, no half-pixel shift).
  static cv::Point2d in_view(const HeatmapPeak& peak, const LeftFacingView& view) {
    const double hm = constants::kHeatmapSize;
    return {peak.x / hm * view.width(), peak.y / hm * view.height()};
  }

  // Stage 1's landmarks in original pixels.
  static std::vector<LandmarkPrediction> landmarks_of(const std::array<HeatmapPeak, kNumLandmarks>& peaks,
                                                      const LeftFacingView& view) {
    const auto& table = canonical_landmarks();
    std::vector<LandmarkPrediction> landmarks;
    for (int i = 0; i < kNumLandmarks; ++i) {
      LandmarkPrediction lm;
      lm.index = i;
      lm.name = std::string(table[i].name);
      const cv::Point2d p = view.to_original(in_view(peaks[i], view));
      lm.x = p.x;
      lm.y = p.y;
      lm.peak = peaks[i].peak;
      lm.confidence_score = std::clamp(peaks[i].peak, 0.0, 1.0);
      lm.confidence = confidence_label(peaks[i].peak);
      lm.tier = table[i].tier;
      landmarks.push_back(std::move(lm));
    }
    return landmarks;
  }

  // Stage 2: each landmark refined on a finer grid of the same (left-facing) view.
  void refine_in_view(const LeftFacingView& view, const RefineGrid& grid,
                      const std::array<HeatmapPeak, kNumLandmarks>& peaks,
                      PredictionResult& result) {
    const auto t = Clock::now();
    std::array<cv::Point2d, kNumLandmarks> start;
    for (int i = 0; i < kNumLandmarks; ++i) start[i] = in_view(peaks[i], view);
    // The members run side by side only when OpenCV may use several threads: with one
    // (`--threads 1`, e.g. one film per core in a folder run) the film keeps to one core.
    const auto refined = refine_landmarks(refine, grid, start,
                                          options.decoder, options.refine_passes,
                                          constants::kRefinePatchesPerForward, options.refine_share_radius,
                                          /*repass_min_move=*/0, /*parallel_models=*/cv::getNumThreads() > 1);
    for (int i = 0; i < kNumLandmarks; ++i) {
      auto& lm = result.landmarks[i];
      lm.refinement = LandmarkPrediction::Refinement{lm.x, lm.y, refined[i].peak, refined[i].applied,
                                                     refined[i].moved_grid_px, refined[i].spread_grid_px};
      const cv::Point2d p = view.to_original(refined[i].position);
      lm.x = p.x;
      lm.y = p.y;
    }
    result.refinement = "stage2";
    result.timings_ms.emplace_back(TimedStage::Stage2, ms_since(t));
  }

  // The extended landmarks: each starts where the template, fitted to the canonical landmarks
  // nearest to it, puts it, and is refined on Stage 2's grid by the extended model.
  void extend_in_view(const LeftFacingView& view, const RefineGrid& grid, PredictionResult& result) {
    const auto t = Clock::now();
    std::array<std::optional<cv::Point2d>, kNumLandmarks> canonical{};
    for (const auto& lm : result.landmarks)
      if (lm.index < kNumLandmarks) canonical[lm.index] = view.to_view({lm.x, lm.y});
    std::array<cv::Point2d, kNumExtended> start;
    for (int e = 0; e < kNumExtended; ++e) {
      const auto p = framing::local_template_position(canonical, kNumLandmarks + e);
      if (!p) return;  // no head to start from (cannot happen with 25 decoded landmarks)
      start[e] = *p;
    }
    const auto refined = refine_landmarks({&*extended, 1}, grid, start,
                                          options.decoder, constants::kExtendedPasses,
                                          constants::kRefinePatchesPerForward, /*share_radius=*/0,
                                          options.extended_repass_min_move);
    for (int e = 0; e < kNumExtended; ++e) {
      LandmarkPrediction lm;
      lm.index = kNumLandmarks + e;
      lm.name = std::string(landmark_name(lm.index));
      const cv::Point2d p = view.to_original(refined[e].position);
      lm.x = p.x;
      lm.y = p.y;
      lm.peak = refined[e].peak;
      lm.confidence_score = std::clamp(refined[e].peak, 0.0, 1.0);
      lm.confidence = refined[e].applied && refined[e].peak >= constants::kExtendedMediumPeak ? "medium" : "low";
      lm.tier = Tier::Low;
      lm.extended = true;
      result.landmarks.push_back(std::move(lm));
    }
    result.timings_ms.emplace_back(TimedStage::Extended, ms_since(t));
  }

  // Keys of the models that ran for `result`.
  std::vector<std::string> models_that_ran(const PredictionResult& result) const {
    std::vector<std::string> keys;
    const bool stage0_ran = stage0_complete() && result.priors == "stage0";
    for (const auto& c : model_contracts())
      if (models[static_cast<size_t>(c.key)] && (c.key == ModelKey::Stage1 || stage0_ran))
        keys.emplace_back(c.name);
    keys.insert(keys.end(), refine_names.begin(), refine_names.end());
    if (extended && result.landmarks.size() > kNumLandmarks) keys.emplace_back(extended_contract().name);
    return keys;
  }
};

void keep_freed_memory() {
#if defined(__GLIBC__)
  // 32 MiB is glibc's largest mmap threshold on 64-bit (the 28×512² Stage 1 input is 28 MiB).
  mallopt(M_MMAP_THRESHOLD, constants::kMallocMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, constants::kMallocTrimThreshold);
  mallopt(M_ARENA_MAX, 1);
#endif
}

Predictor::Predictor(PredictorOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  check_threads(impl_->options.threads);  // a huge count crashes OpenCV's thread pool
  if (!(impl_->options.refine_share_radius >= 0 &&
        impl_->options.refine_share_radius <= constants::kRefinePatch / 2))
    throw std::invalid_argument("refine_share_radius must be 0 to " +
                                std::to_string(constants::kRefinePatch / 2) + " grid pixels");
  if (!(impl_->options.extended_repass_min_move >= 0))
    throw std::invalid_argument("extended_repass_min_move must not be negative");
  // Process-wide (see PredictorOptions::threads): set only when asked, so that 0 does not
  // undo what the application or another Predictor chose.
  if (impl_->options.threads > 0) cv::setNumThreads(impl_->options.threads);
  if (impl_->options.keep_freed_memory) keep_freed_memory();
  // The manifest check hashes the files on a thread of its own while they are parsed (where
  // the CPU lacks SHA instructions hashing took as long as parsing; parsing the files on
  // several threads was slower, docs/benchmark.md). A damaged file is reported as damaged,
  // even when parsing it failed first.
  std::future<void> verified;
  if (impl_->options.verify_models)
    verified = std::async(std::launch::async, verify_model_manifest, impl_->options.model_dir);
  try {
    impl_->load_models();
  } catch (...) {
    if (verified.valid()) verified.get();
    throw;
  }
  if (verified.valid()) verified.get();
#if defined(__GLIBC__)
  // Parsing leaves freed buffers (the files' bytes) inside the heap; returning them now takes
  // about 11 MiB off the peak resident set with the shipped models.
  malloc_trim(0);
#endif
}

Predictor::~Predictor() = default;
Predictor::Predictor(Predictor&&) noexcept = default;
Predictor& Predictor::operator=(Predictor&&) noexcept = default;

PredictionResult Predictor::predict(const std::filesystem::path& image_file) {
  const auto t = Clock::now();
  LoadedImage image = load_image(image_file);
  const double load_ms = ms_since(t);
  PredictionResult result = predict(image);
  result.timings_ms.insert(result.timings_ms.begin(), {TimedStage::LoadImage, load_ms});
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
                                                const OriginalImageLandmarks& priors) {
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
  if (impl_->extended) keys.emplace_back(extended_contract().name);
  return keys;
}

std::vector<std::pair<std::string, std::string>> Predictor::missing_models() const {
  return impl_->missing;
}

bool Predictor::stage0_available() const { return impl_->stage0_complete(); }

}  // namespace cephtrace
