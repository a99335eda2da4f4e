// The result of one prediction: spec §6 plus the engine's additions.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>  // to_json's return type only

#include "cephtrace/landmarks.hpp"

namespace cephtrace {

// Which way the face looks in the ORIGINAL image.
enum class Orientation { FacingLeft, FacingRight };
std::string_view orientation_name(Orientation o);  // "left" | "right"

// How Stage 1 heatmaps are decoded to positions (PredictorOptions::decoder).
enum class Decoder {
  Reference,  // "DARK-lite": argmax clamped to [1,254], log, per-axis Newton step ±0.5
  Dark,       // full DARK: Gaussian smoothing, peak rescale, 2×2 Hessian with cross term
};

// What a prediction times, in run order. stage_name() gives the keys of "timings_ms".
enum class TimedStage {
  LoadImage,         // "load_image": reading and decoding the file (predict(path), batches)
  Framing,           // "framing": the coarse Stage 1 passes, the head fit, the resampling
  Orientation,       // "orientation": deciding the facing direction, mirroring the view
  Stage0A,           // "stage0_0A" ... "stage0_0E": Stage 0's phases
  Stage0B,
  Stage0C,
  Stage0D,
  Stage0E,
  Stage0,            // "stage0": all of Stage 0 (or rendering given priors)
  Stage1Preprocess,  // "stage1_preprocess"
  Stage1,            // "stage1": the forward pass and decoding
  Stage2,            // "stage2": the local refinement
  Extended,          // "extended": the extended landmarks
  Total,             // "total": everything after reading the image
};
std::string_view stage_name(TimedStage stage);

struct LandmarkPrediction {
  int index = 0;         // canonical index
  std::string name;
  double x = 0, y = 0;   // original image pixels
  double peak = 0;       // max heatmap value
  double confidence_score = 0;  // peak clipped to [0, 1]
  std::string confidence;       // "high" | "medium" | "low"
  Tier tier = Tier::Low;
  // Engine addition: Stage 1's strongest response was implausibly far from where the rest of
  // the head puts this landmark, and the strongest response near there was taken instead
  // (the anatomical gate). Its confidence is then "low": check it.
  bool relocated = false;
  // Engine addition: one of EXTENDED_14 (index 25..38), placed by the extended model: started
  // from the 25 and refined like Stage 2; peak is that model's heatmap peak. Never "high":
  // the model learnt from 89 films.
  bool extended = false;
  // Engine addition: Stage 2 refinement of this landmark, when it ran. x/y above are then
  // the refined position; peak/confidence stay Stage 1's.
  struct Refinement {
    double stage1_x = 0, stage1_y = 0;  // Stage 1's position (original pixels)
    double peak = 0;                    // Stage 2 heatmap peak
    bool applied = false;               // false: peak too low, Stage 1's position kept
    double moved_grid_px = 0;           // Stage 1 -> Stage 2 distance (refinement grid px)
    double spread_grid_px = 0;          // ensemble members' disagreement (refinement grid px)
  };
  std::optional<Refinement> refinement;
};

// What field-of-view normalisation did: the film was resampled onto a canvas by a
// similarity transform (scale, rotation) fitted to a coarse Stage 1 pass.
struct FramingReport {
  bool applied = false;
  std::string reason;  // why it was not applied (when not)
  // When applied:
  double scale = 1, rotation_deg = 0;
  int canvas_width = 0, canvas_height = 0;
  double residual_mm = 0;        // fit residual of the coarse landmarks
  int inliers = 0;               // coarse landmarks the fit kept
  bool inverted = false;         // the film's look-up table was taken as inverted (bone dark)
  double coarse_mean_peak = 0;   // mean heatmap peak of the coarse pass
  // The part of the film that holds the image (x, y, width, height; uniform borders cut
  // away before anything else ran); absent when nothing was cut.
  std::optional<std::array<int, 4>> content_box;
};

struct PredictionResult {
  std::string source;  // file path, or "<memory>"
  int original_width = 0;
  int original_height = 0;
  bool degraded = false;
  // Why the result is degraded beyond Stage 0 (a flat or NaN model output, implausible
  // anatomy: see src/pipeline/plausibility.hpp); "degraded_reasons" in the JSON.
  std::vector<std::string> degraded_reasons;
  std::map<std::string, bool> stage0_status;          // "0A".."0E" -> the phase succeeded
  // "0A".."0E" -> what the phase found, as the text of a JSON object (diagnostics whose
  // fields differ per phase; text keeps this header free of a JSON library).
  std::map<std::string, std::string> stage0_details;
  // 25, canonical order; then the extended landmarks (index 25..38) when the extended model ran.
  std::vector<LandmarkPrediction> landmarks;

  // Engine additions.
  Orientation orientation = Orientation::FacingLeft;
  bool orientation_detected = true;  // false when forced by the caller
  // How it was decided: "given" | "head_fit" (with framing: the coarse landmarks of the view
  // that image statistics chose convincingly fit a head) | "profile_mask" | "stage1_peaks" |
  // "image_statistics" | "framing_fit" (the mirrored view's landmarks fitted a head better).
  std::string orientation_method = "given";
  std::optional<double> pixel_spacing_mm;  // from DICOM / the caller, when known
  std::string decoder;                     // "reference" | "dark"
  std::string priors = "stage0";           // "stage0" | "zero" | "given"
  std::string refinement = "none";         // "stage2" when the refinement model ran
  // Where confidence/confidence_score come from: "peak" (Stage 1's heatmap peak, as the
  // reference) or "calibrated" (stage2/confidence.json: 1 - the chance of a > 3 mm miss).
  std::string confidence_method = "peak";
  // Field-of-view normalisation (PredictorOptions::framing); nullopt when it was not tried.
  std::optional<FramingReport> framing;
  std::vector<std::pair<TimedStage, double>> timings_ms;  // per stage, in run order
  double time_ms(TimedStage stage) const;  // that stage's time; 0 when it did not run
  std::vector<std::string> models_loaded;                   // model keys that ran
};

// Reference schema (spec §6) plus the additions above, keys in the reference's order.
nlohmann::ordered_json to_json(const PredictionResult& result);

}  // namespace cephtrace
