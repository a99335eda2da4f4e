// Every numeric constant of the CephTrace v4 contract (spec §2–§5) in one place.
#pragma once

#include <array>
#include <string_view>

namespace cephtrace::constants {

// Tensor sizes.
inline constexpr int kStage0Size = 512;     // proc512: Stage 0 working resolution
inline constexpr int kStage1Input = 512;    // Stage 1 image/prior resolution
inline constexpr int kHeatmapSize = 256;    // Stage 1 output and prior render grid
inline constexpr int kZoneInput = 256;      // Phase 0C model input
inline constexpr int kStage1Channels = 28;  // 3 RGB + 25 attention maps

// Phase 0A.
inline constexpr int kEmptyMaskThreshold = 50;

// Phase 0B.
inline constexpr int kMinContourPointsForFeatures = 10;
inline constexpr int kMinPointsForSoftTissue = 20;  // contour points, profile rows and height
inline constexpr double kNoseTopFraction = 0.4;
inline constexpr int kZonePad = 51;  // 10 % of 512
inline constexpr int kMinZoneSide = 128;
inline constexpr int kSoftTissueExpected = 6;

struct ZoneBox {
  int x1, y1, x2, y2;
};
// Zones used when the profile features are unavailable (z1..z5; tables.def).
inline constexpr auto kFallbackZones = std::to_array<ZoneBox>({
#define CEPHTRACE_ZONE(zone, x1, y1, x2, y2, clip_limit, tile_grid) {x1, y1, x2, y2},
#include "cephtrace/tables.def"
});
static_assert(kFallbackZones.size() == 5);

struct ClaheParams {
  double clip_limit;
  int tile_grid;
};
inline constexpr auto kZoneClahe = std::to_array<ClaheParams>({
#define CEPHTRACE_ZONE(zone, x1, y1, x2, y2, clip_limit, tile_grid) {clip_limit, tile_grid},
#include "cephtrace/tables.def"
});
static_assert(kZoneClahe.size() == 5);

// Phase 0B zone geometry (fractions of 512 / of the profile centroid y).
inline constexpr double kZoneCranialLeft = 0.25;    // z1 x1 = int(512·0.25) − pad
inline constexpr double kZonePosteriorLeft = 0.15;  // z4 x1 = int(512·0.15) − pad
inline constexpr double kZoneBottom = 0.85;         // z1/z4 y2 = int(512·0.85) + pad
inline constexpr double kZoneMidfaceRight = 0.25;   // z2 x2 = int(x_max + 0.25·(512 − x_max)) + 3·pad
inline constexpr double kZoneCentroidY = 0.95;      // z2 y2 / z3 y1 around int(0.95·cy)

// Phase 0B anterior-profile smoothing: σ = max(3, 0.015·height), kernel truncated at 4σ.
inline constexpr double kProfileSigmaMin = 3.0;
inline constexpr double kProfileSigmaFraction = 0.015;
inline constexpr double kGaussianTruncate = 4.0;

// Phase 0C.
inline constexpr double kMinContourArea = 20.0;
inline constexpr int kMinContourPoints = 20;
inline constexpr int kPrimaryExpected = 4;

// Phase 0D: an assumed 200×250 mm film gives px_per_mm = (W/200 + H/250)/2.
inline constexpr double kFilmWidthMm = 200.0;
inline constexpr double kFilmHeightMm = 250.0;
inline constexpr double kMinDpEpsilon = 0.001;
inline constexpr int kAnchorsExpected = 7;
// Phase 0D anchor windows (arc-length fractions along the oriented polyline).
inline constexpr double kSellaWindowLo = 0.20, kSellaWindowHi = 0.60;
inline constexpr double kPogonionWindowLo = 0.10, kPogonionWindowHi = 0.65;
inline constexpr double kGonionWindowLo = 0.15, kGonionWindowHi = 0.50;

// Phase 0E.
inline constexpr double kMissingAnchorValue = 0.5;

// Stage 1 decoding.
inline constexpr double kLogFloor = 1e-10;
inline constexpr double kNewtonEpsilon = 1e-10;    // added to the 2nd derivative (reference)
inline constexpr double kReferenceMaxOffset = 0.5;  // per-axis sub-pixel step clip (reference)
// Full DARK: Gaussian modulation of the heatmap before the Taylor step, as in the DARK
// paper's published setting for σ = 2 heatmaps (an 11×11 kernel of σ = 2 px), then the
// Newton step −H⁻¹g is clipped to ±1 px per axis.
inline constexpr double kDarkBlurSigma = 2.0;
inline constexpr int kDarkBlurKernel = 11;
inline constexpr double kDarkMaxOffset = 1.0;
inline constexpr double kHighConfidencePeak = 0.5;
inline constexpr double kMediumConfidencePeak = 0.2;

// The scalars shared with the training (tables.def): Stage 2's grid (kRefineGridExtent,
// kRefinePatch, kRefineStride, kRefineZscoreEpsilon) and ISBI's pixel spacing
// (kIsbiPixelSpacingMm).
#define CEPHTRACE_CONSTANT(type, name, value) inline constexpr type name = value;
#include "cephtrace/tables.def"

// Stage 2 local refinement (ours): a 128² patch per landmark, a 64² heatmap out.
inline constexpr int kRefineHeatmap = kRefinePatch / kRefineStride;
// A refined position whose heatmap peak is below this keeps Stage 1's position.
inline constexpr double kRefineMinPeak = 0.1;
// Patches per Stage 2 forward: OpenCV keeps every layer's buffers at the batch size it last
// ran, so 25 patches at once cost ~230 MiB more peak memory than 5 at a time, for ~6 % less
// time (docs/benchmark.md). Each patch's output does not depend on the others.
inline constexpr int kRefinePatchesPerForward = 5;
// Stage 2 landmarks whose Stage 1 positions fit in a square of side 2·16 refinement-grid
// pixels (about 7 mm on ISBI) share one patch, each read from its own channel (the models
// learnt every landmark in the patch, centred or not): about 20 patches instead of 25.
// On the training images 101–150 with the protocol models (tools/stage2_share_radius.sh) 24
// px looked as good (MRE 1.083 → 1.074 mm on the senior labels, 1.411 → 1.416 on CL-2023's
// 25; 32 px: 1.104 / 1.482), but on Test1 it cost 0.029 mm (1.468 → 1.497), more than
// issue 15 allows; 16 px: Test1 1.474, Test2 2.259 → 2.247 (docs/benchmark.md). The extended
// model's landmarks do not share: in a trial they lost about 0.1 mm on 101–150.
inline constexpr double kRefineShareRadius = 16.0;
// One pass: with the two shipped Stage 2 models a second pass gained nothing on the held-out
// images 141-150 (1.21 mm either way) and costs as much again.
inline constexpr int kRefinePasses = 1;
// The extended model (ours): passes from its start (the template fitted to the 25, about 3 mm
// off), and the heatmap peak below which its landmark is reported "low" (otherwise "medium":
// never "high", see LandmarkPrediction). Chosen on the held-out images 141–150
// (`python3 -m training.extended --val-study`): 2 passes 1.73 mm against 1 pass 1.88 mm; a
// peak below 0.35 marks 10 % of the points, with 2.88 mm MRE against 1.60 mm for the rest.
// The narrow network shipped since session 20: 2 passes 1.86, 1 pass 1.95 mm; below 0.35,
// 9 % of the points at 3.64 mm against 1.70 mm.
inline constexpr int kExtendedPasses = 2;
// The extended model's second pass refines again only the landmarks that its first pass moved
// at least 16 refinement-grid pixels (about 3.4 mm; PredictorOptions::extended_repass_min_move):
// a landmark that moved less was already near its patch's centre. On the training images
// 101-150 with CL-2023 labels (27 films, protocol models; `bash tools/extended_repass.sh`):
// extended 14 MRE 1.781 mm (all again) -> 1.788 mm, the extended step 377 -> 231 ms; one pass
// for all (128) 1.839 mm, 187 ms.
inline constexpr double kExtendedRepassMinMove = 16.0;
inline constexpr double kExtendedMediumPeak = 0.35;

// glibc malloc settings of keep_freed_memory() (predictor.hpp): allocations up to the mmap
// threshold come from the heap (32 MiB is glibc's maximum on 64-bit), and freed heap memory
// is given back to the kernel only beyond the trim threshold (several films' worth).
inline constexpr int kMallocMmapThreshold = 32 << 20;
inline constexpr int kMallocTrimThreshold = 1 << 30;

// Reference evaluator's S–N calibration (Proffit, 7th ed.).
inline constexpr double kReferenceSellaNasionMm = 71.0;

}  // namespace cephtrace::constants
