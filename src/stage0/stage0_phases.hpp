// Stage 0 phase by phase (spec §4). Public so that each phase can be tested on
// synthetic inputs; applications should call run_stage0() (stage0.hpp) instead.
//
// Coordinate frames: "512" = proc512 pixels (the 512×512 Stage 0 working image);
// "original" = pixels of the native-size, left-facing input image.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "cephtrace/constants.hpp"
#include "cephtrace/landmarks.hpp"

#include "core/onnx_model.hpp"
#include "stage0/stage0.hpp"

namespace cephtrace::stage0 {

using constants::ZoneBox;

// ---------------------------------------------------------------- 0A: profile mask

// Binary mask (CV_8U, 0/255, 512×512) from the profile model's output: (1,1,512,512)
// logits → logit > 0 (sigmoid > 0.5); (1,2,512,512) scores → class 1 > class 0.
// Returns an empty Mat for any other shape.
cv::Mat profile_mask_from_output(const cv::Mat& output);

// ---------------------------------------------------------------- 0B: profile features

struct ProfileFeatures {
  bool valid = false;               // contour has ≥ 10 points (else fallback zones)
  std::vector<cv::Point> contour;   // outer contour of the largest component, sorted by y
  int x_min = 0, y_min = 0, x_max = 0, y_max = 0;
  cv::Point2d centroid;             // mean of the contour points
  cv::Point nose_tip;               // min-x point in the top 40 % of the height
  cv::Point chin_bottom;            // max-y point
  int height = 0;                   // y_max − y_min
};

// Largest 4-connected component of `mask512` (non-zero = foreground), its outer contour
// with every boundary pixel, and the features derived from it.
ProfileFeatures compute_profile_features(const cv::Mat& mask512);

// scipy.ndimage.gaussian_filter1d(values, sigma, mode='reflect', truncate=4.0):
// kernel radius int(4σ + 0.5), edges extended as d c b a | a b c d.
std::vector<double> gaussian_smooth_reflect(const std::vector<double>& values, double sigma);

// The anterior (face-side) profile: for each distinct y the smallest x of the contour.
struct AnteriorProfile {
  std::vector<int> y;           // ascending
  std::vector<double> x;        // smallest contour x at that y
  std::vector<double> x_smooth; // x smoothed with σ = max(3, 0.015·height)
};
AnteriorProfile anterior_profile(const ProfileFeatures& features);

struct SoftTissuePoints {
  std::optional<cv::Point> prn, sn, ul, ll, pog_soft, pm;  // 512 px (truncated)
  int found() const;
  std::vector<std::string> missing() const;  // names in the order Prn, Sn, UL, LL, Pog_soft, Pm
};

// Spec §4.2 step 4. `y_min`/`height` define t = (y − y_min)/height.
SoftTissuePoints find_soft_tissue_points(const AnteriorProfile& profile, int y_min, int height);
// Same, straight from the features (nothing found unless they allow it).
SoftTissuePoints find_soft_tissue_points(const ProfileFeatures& features);

// Clamps to [0, 512] and enforces a minimum side of 128 by re-centring.
ZoneBox clamp_zone(ZoneBox zone);
// Zones z1..z5 from the features, or the fallback zones when the features are invalid.
std::array<ZoneBox, 5> compute_zones(const ProfileFeatures& features);
// The CLAHE'd crop of `proc512` for zone `zone_index` (0..4 for z1..z5), at the zone's size.
cv::Mat apply_zone_clahe(const cv::Mat& proc512, const ZoneBox& zone, int zone_index);

// ---------------------------------------------------------------- 0C: zone contours

// The contour classes 0C must find for its status to be true (spec §4.3).
inline constexpr std::array<std::string_view, 4> kPrimaryClasses{
    "cranial_base", "mandibular_border", "palatal_plane", "mandibular_symphysis"};

struct ClassContour {
  std::vector<cv::Point> contour512;  // kept outer contour (512 px); empty when none
  cv::Mat mask512;                    // that contour's filled blob (CV_8U 0/255); empty when none
};

struct ZoneSegmentation {
  bool ran = false;                   // the model ran and had the right channel count
  std::string error;                  // why not, when !ran
  std::vector<ClassContour> classes;  // zone_classes(zone) order; empty when !ran
};

// Per-class binary 256×256 maps (CV_8U 0/255, logit > 0) from a zone model output of
// shape (1, C, 256, 256). nullopt when C ≠ `expected_classes` or the shape is wrong.
std::optional<std::vector<cv::Mat>> zone_class_maps(const cv::Mat& output, int expected_classes);

// Resize a 256² class map back to the zone (nearest), paste into a 512² canvas, close then
// open (3×3 ellipse), keep the outer contour with the most points among those with area ≥ 20
// or ≥ 20 points.
ClassContour extract_class_contour(const cv::Mat& class_map256, const ZoneBox& zone);

// Turns a zone model's output into per-class contours (failed zone on a wrong shape).
ZoneSegmentation segment_zone_output(const cv::Mat& output, const ZoneBox& zone, int zone_index);
// Runs the zone model on the CLAHE'd crop; a null model or inference error → failed zone.
ZoneSegmentation segment_zone(OnnxModel* model, const cv::Mat& clahe_crop, const ZoneBox& zone,
                              int zone_index);

// Merge: cranial_base from z1 else z4, mandibular_border from z3 else z4, palatal_plane and
// upper_incisor_axis from z2, mandibular_symphysis and lower_incisor_axis from z3. Only
// classes with a non-empty contour appear.
using ContourSet = std::map<std::string, ClassContour, std::less<>>;
ContourSet merge_zone_contours(const std::array<ZoneSegmentation, 4>& zones);

// ---------------------------------------------------------------- 0D: anchors

using Polyline = std::vector<cv::Point2d>;

// Zhang–Suen thinning of a binary image (non-zero = foreground) → CV_8U 0/255 skeleton.
cv::Mat thin_zhang_suen(const cv::Mat& binary);
// Open centre-line of a blob: the longest shortest-path between two farthest pixels of the
// largest 8-connected component of its skeleton (two BFS passes). Empty for an empty mask.
std::vector<cv::Point> centreline_path(const cv::Mat& binary);

double px_per_mm(cv::Size original);               // (W/200 + H/250)/2
double dp_tolerance_mm(std::string_view contour_class);
// Douglas–Peucker on an open polyline (cv::approxPolyDP, closed = false).
Polyline douglas_peucker(const Polyline& line, double epsilon);
// Reversed if the first point is closer to `ref` than the last (the last is nearest ref).
Polyline orient_toward(Polyline line, cv::Point2d ref);
// Vertex farthest from the chord first→last among those with arc-length fraction in
// [a, b]; the vertex nearest (a+b)/2 if none lies in the window.
std::optional<cv::Point2d> chord_window_vertex(const Polyline& line, double a, double b);
// Interior vertex with the largest turning angle among those with fraction in [a, b];
// fallback: the vertex nearest (a+b)/2.
std::optional<cv::Point2d> curvature_window_vertex(const Polyline& line, double a, double b);

// The polyline 0D works on for one class, in original px, not yet simplified:
// Reference: the closed findContours boundary as is; Centreline: centreline_path(mask).
Polyline class_polyline(const ClassContour& contour, ContourMode mode, double scale_x,
                        double scale_y);

struct AnchorReferences {
  std::optional<cv::Point2d> nose_tip, chin_bottom, prn;  // original px
};

struct Anchors {
  std::array<std::optional<cv::Point2d>, kNumAnchors> points{};  // ANCHORS_7 order, original px
  int found() const;
  std::vector<std::string> missing() const;
};

// Simplifies each class polyline (original px) and applies the anchor rules of §4.4.
Anchors extract_anchors(const std::map<std::string, Polyline, std::less<>>& polylines,
                        const AnchorReferences& refs, cv::Size original);

// ---------------------------------------------------------------- 0E: priors

// Normalised positions (x/W, y/H) per canonical landmark; nullopt = absent.
using PriorPositions = std::array<std::optional<cv::Point2d>, kNumLandmarks>;

// (1,14) CV_32F: anchors as (x/W, y/H) in ANCHORS_7 order, a missing one as (0.5, 0.5).
cv::Mat mlp_input(const Anchors& anchors, cv::Size original);
// 18 normalised positions in DERIVED_18 order from a (1,36) output; nullopt on a wrong shape.
std::optional<std::array<cv::Point2d, kNumDerived>> mlp_derived(const cv::Mat& output);

// Derived, then anchors override, then the soft-tissue UL, LL, Sn, Pog_soft, Pm override.
// A missing anchor is placed at (0.5, 0.5) when `render_defaulted_anchors` (reference
// behaviour), else left absent.
PriorPositions assemble_prior_positions(const std::array<cv::Point2d, kNumDerived>& derived,
                                        const Anchors& anchors, const SoftTissuePoints& soft512,
                                        cv::Size original, bool render_defaulted_anchors);

// 25 CV_32F 256×256 maps: exp(−((x − 256·nx)² + (y − 256·ny)²)/(2σ²)) on the integer grid,
// σ from landmarks.hpp; an absent landmark gives a zero map.
std::vector<cv::Mat> render_priors256(const PriorPositions& positions);
// Each map resized to 512×512 with INTER_LINEAR.
std::vector<cv::Mat> upsample_priors(const std::vector<cv::Mat>& maps256);

// ---------------------------------------------------------------- orchestration

// Phases 0B–0E given a 0A mask (512², non-zero = profile): what run_stage0 does after 0A.
// `out` must already hold the 0A status/details; fills the rest.
void run_stage0_after_mask(const cv::Mat& proc512, const cv::Mat& mask512, cv::Size original,
                           Stage0Models& models, const Stage0Options& options,
                           Stage0Output& out);

}  // namespace cephtrace::stage0
