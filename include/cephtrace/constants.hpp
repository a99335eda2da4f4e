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
// Zones used when the profile features are unavailable (z1..z5).
inline constexpr std::array<ZoneBox, 5> kFallbackZones{{{77, 0, 512, 486},
                                                        {0, 0, 384, 307},
                                                        {0, 153, 512, 512},
                                                        {25, 0, 512, 486},
                                                        {0, 10, 230, 501}}};

struct ClaheParams {
  double clip_limit;
  int tile_grid;
};
inline constexpr std::array<ClaheParams, 5> kZoneClahe{{{3.0, 4}, {2.5, 8}, {3.0, 6}, {3.5, 4}, {1.5, 8}}};

// Phase 0C.
inline constexpr double kMinContourArea = 20.0;
inline constexpr int kMinContourPoints = 20;
inline constexpr int kPrimaryExpected = 4;

// Phase 0D: an assumed 200×250 mm film gives px_per_mm = (W/200 + H/250)/2.
inline constexpr double kFilmWidthMm = 200.0;
inline constexpr double kFilmHeightMm = 250.0;
inline constexpr double kMinDpEpsilon = 0.001;
inline constexpr int kAnchorsExpected = 7;

// Phase 0E.
inline constexpr double kMissingAnchorValue = 0.5;

// Stage 1 decoding.
inline constexpr double kLogFloor = 1e-10;
inline constexpr double kHighConfidencePeak = 0.5;
inline constexpr double kMediumConfidencePeak = 0.2;

// Assumed pixel spacing of ISBI 2015 (mm per pixel).
inline constexpr double kIsbiPixelSpacingMm = 0.1;
// Reference evaluator's S–N calibration (Proffit, 7th ed.).
inline constexpr double kReferenceSellaNasionMm = 71.0;

}  // namespace cephtrace::constants
