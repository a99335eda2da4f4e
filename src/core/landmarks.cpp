#include "cephtrace/landmarks.hpp"

#include <array>

namespace cephtrace {

namespace {

// The three vocabularies from their one source, include/cephtrace/tables.def (the training
// reads it too).
constexpr auto kCanonical = std::to_array<LandmarkInfo>({
#define CEPHTRACE_LANDMARK(id, sigma, tier) {#id, sigma, Tier::tier},
#include "cephtrace/tables.def"
});
constexpr auto kAnchors = std::to_array<int>({
#define CEPHTRACE_ANCHOR(id) lm::id,
#include "cephtrace/tables.def"
});
constexpr auto kDerived = std::to_array<int>({
#define CEPHTRACE_DERIVED(id) lm::id,
#include "cephtrace/tables.def"
});
constexpr auto kExtended = std::to_array<ExtendedLandmarkInfo>({
#define CEPHTRACE_EXTENDED(id, cl2023_number) {#id, cl2023_number},
#include "cephtrace/tables.def"
});
static_assert(kExtended.size() == kNumExtended);
#define CEPHTRACE_EXTENDED(id, cl2023_number) static_assert(kExtended[lm::id - kNumLandmarks].name == #id);
#include "cephtrace/tables.def"
static_assert(kCanonical.size() == kNumLandmarks && kAnchors.size() == kNumAnchors &&
              kDerived.size() == kNumDerived);

// The named indices of landmarks.hpp agree with the table.
#define CEPHTRACE_LANDMARK(id, sigma, tier) static_assert(kCanonical[lm::id].name == #id);
#include "cephtrace/tables.def"

// Every landmark is either an anchor or derived, exactly once.
constexpr bool anchors_and_derived_partition_the_landmarks() {
  std::array<int, kNumLandmarks> seen{};
  for (int i : kAnchors) ++seen[i];
  for (int i : kDerived) ++seen[i];
  for (int n : seen)
    if (n != 1) return false;
  return true;
}
static_assert(anchors_and_derived_partition_the_landmarks());

}  // namespace

const std::array<LandmarkInfo, kNumLandmarks>& canonical_landmarks() { return kCanonical; }

const std::array<int, kNumAnchors>& anchor_indices() { return kAnchors; }

const std::array<int, kNumDerived>& derived_indices() { return kDerived; }

std::optional<int> canonical_index(std::string_view name) {
  const auto& table = canonical_landmarks();
  for (int i = 0; i < kNumLandmarks; ++i)
    if (table[i].name == name) return i;
  return std::nullopt;
}

const std::array<ExtendedLandmarkInfo, kNumExtended>& extended_landmarks() { return kExtended; }

std::string_view landmark_name(int traced_index) {
  if (traced_index >= 0 && traced_index < kNumLandmarks) return kCanonical[traced_index].name;
  if (traced_index >= kNumLandmarks && traced_index < kNumTraced) return kExtended[traced_index - kNumLandmarks].name;
  return "?";
}

std::optional<int> traced_index(std::string_view name) {
  if (auto i = canonical_index(name)) return i;
  for (int i = 0; i < kNumExtended; ++i)
    if (kExtended[i].name == name) return kNumLandmarks + i;
  return std::nullopt;
}

std::string_view tier_name(Tier tier) {
  switch (tier) {
    case Tier::High: return "high";
    case Tier::Medium: return "medium";
    case Tier::Low: return "low";
  }
  return "low";
}

}  // namespace cephtrace
