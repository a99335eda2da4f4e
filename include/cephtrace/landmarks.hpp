// The three landmark vocabularies of CephTrace v4 (spec §1) kept in ONE table.
// CANONICAL_25 is the master order (Stage 1 channels, attention channels, output);
// ANCHORS_7 (Phase 0D output / MLP input) and DERIVED_18 (MLP output) are index
// maps into it, so the orders can never be mixed up. EXTENDED_14 (ours) are the
// CL-Detection 2023 landmarks beyond the 25 that the extended model adds; they follow
// the 25 as indices 25..38, so "traced" indices 0..38 name any landmark.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace cephtrace {

inline constexpr int kNumLandmarks = 25;
inline constexpr int kNumAnchors = 7;
inline constexpr int kNumDerived = 18;
inline constexpr int kNumExtended = 14;
inline constexpr int kNumTraced = kNumLandmarks + kNumExtended;  // 39

enum class Tier { High, Medium, Low };

struct LandmarkInfo {
  std::string_view name;
  double prior_sigma;  // σ of the Gaussian prior, in pixels of a 256×256 map
  Tier tier;
};

// CANONICAL_25, indexed by canonical index.
const std::array<LandmarkInfo, kNumLandmarks>& canonical_landmarks();

// Canonical indices of ANCHORS_7: S, N, Me, ANS, Go, Pog, Prn.
const std::array<int, kNumAnchors>& anchor_indices();

// Canonical indices of DERIVED_18: Or, Po, PNS, A, B, Gn, Ar, Co, U1_tip, U1_root,
// L1_tip, L1_root, UL, LL, Pm, Ba, Pog_soft, Sn.
const std::array<int, kNumDerived>& derived_indices();

// Canonical index of an exact canonical name ("S", "Pog_soft", ...), if any.
std::optional<int> canonical_index(std::string_view name);

struct ExtendedLandmarkInfo {
  std::string_view name;  // "D", "Ptm", "U6", ...
  int cl2023_number;      // its number (1..38) in the CL-Detection 2023 labels
};
// EXTENDED_14, indexed by traced index − kNumLandmarks.
const std::array<ExtendedLandmarkInfo, kNumExtended>& extended_landmarks();

// Name of traced index 0..38 (canonical, then extended).
std::string_view landmark_name(int traced_index);
// Traced index of a canonical or extended name, if any.
std::optional<int> traced_index(std::string_view name);

std::string_view tier_name(Tier tier);  // "high" | "medium" | "low"

// Named canonical indices for code that refers to specific landmarks.
namespace lm {
inline constexpr int S = 0, N = 1, Or = 2, Po = 3, ANS = 4, PNS = 5, A = 6, B = 7, Pog = 8,
                     Gn = 9, Me = 10, Go = 11, Ar = 12, Co = 13, U1_tip = 14, U1_root = 15,
                     L1_tip = 16, L1_root = 17, UL = 18, LL = 19, Pm = 20, Ba = 21,
                     Pog_soft = 22, Sn = 23, Prn = 24;
// EXTENDED_14 (traced indices; only the extended model predicts them).
inline constexpr int D = 25, Cm = 26, Ptm = 27, PT = 28, Bo = 29, UL_border = 30, LL_border = 31,
                     Gn_soft = 32, Me_soft = 33, G_soft = 34, N_soft = 35, C_point = 36, U6 = 37,
                     L6 = 38;
}  // namespace lm

}  // namespace cephtrace
