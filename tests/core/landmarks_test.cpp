// The landmark vocabularies: CANONICAL_25 then EXTENDED_14 as one traced index space, each
// name resolving to one index and back, the extended ones carrying their CL-2023 numbers.
#include "cephtrace/landmarks.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace cephtrace {
namespace {

TEST(Landmarks, TracedIndicesNameEveryLandmarkOnce) {
  std::set<std::string> names;
  for (int i = 0; i < kNumTraced; ++i) {
    const std::string name(landmark_name(i));
    EXPECT_TRUE(names.insert(name).second) << name << " appears twice";
    ASSERT_EQ(traced_index(name), i) << name;
  }
  EXPECT_EQ(kNumTraced, 39);
  EXPECT_EQ(landmark_name(lm::S), "S");
  EXPECT_EQ(landmark_name(lm::Prn), "Prn");
  EXPECT_EQ(landmark_name(lm::D), "D");  // the first extended one follows the 25
  EXPECT_EQ(landmark_name(lm::L6), "L6");
  EXPECT_EQ(landmark_name(-1), "?");
  EXPECT_EQ(landmark_name(kNumTraced), "?");
  EXPECT_FALSE(traced_index("Xi"));
  // Canonical lookups stay canonical: the extended names are not among the 25.
  EXPECT_FALSE(canonical_index("U6"));
}

TEST(Landmarks, ExtendedOnesAreTheClDetectionLandmarksBeyondThe25) {
  // CL-2023 numbers 20..38, less the five that are canonical (21 U1_root, 22 L1_root, 25 Co,
  // 26 Prn, 27 Ba): each exactly once.
  std::set<int> numbers;
  for (const auto& e : extended_landmarks()) numbers.insert(e.cl2023_number);
  const std::set<int> expected{20, 23, 24, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38};
  EXPECT_EQ(numbers, expected);
  EXPECT_EQ(extended_landmarks()[lm::U6 - kNumLandmarks].cl2023_number, 37);
  EXPECT_EQ(extended_landmarks()[lm::Cm - kNumLandmarks].cl2023_number, 23);
}

}  // namespace
}  // namespace cephtrace
