// Real tracings: the ISBI 2015 senior annotations of the training images. A population of
// real faces checks the sign conventions as a whole (a flipped sign shows up as an
// implausible population mean), which constructed cases cannot.
#include <fstream>
#include <map>
#include <sstream>

#include "cephtrace/analysis.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

// The 19 ISBI landmarks in file order (the data set's README).
constexpr int kIsbiOrder[19] = {
    lm::S,      lm::N,      lm::Or, lm::Po, lm::A,  lm::B,        lm::Pog, lm::Me,  lm::Gn, lm::Go,
    lm::L1_tip, lm::U1_tip, lm::UL, lm::LL, lm::Sn, lm::Pog_soft, lm::PNS, lm::ANS, lm::Ar};

std::vector<OriginalImageLandmarks> read_senior(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  std::vector<OriginalImageLandmarks> sets;
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string cell;
    std::getline(row, cell, ',');  // image name
    OriginalImageLandmarks set;
    for (int idx : kIsbiOrder) {
      std::getline(row, cell, ',');
      const double x = std::stod(cell);
      std::getline(row, cell, ',');
      const double y = std::stod(cell);
      set.points[idx] = cv::Point2d(x, y);
    }
    set.pixel_spacing_mm = 0.1;
    sets.push_back(set);
  }
  return sets;
}

TEST(IsbiAnalysis, PopulationMeansArePlausible) {
  CEPHTRACE_REQUIRE_ISBI(isbi);
  const auto sets = read_senior(isbi / "annotations" / "senior" / "train_senior.csv");
  ASSERT_EQ(sets.size(), 150u);

  std::map<std::string, double> sum;
  for (const auto& set : sets) {
    const auto report = analyze(set);
    ASSERT_EQ(report.facing, Orientation::FacingRight);  // every ISBI image faces right
    for (const auto& m : report.measurements) sum[m.key] += m.value / sets.size();
  }
  // Broad ranges around the textbook norms: a mixed population of children and adults
  // lands near them, a wrong sign or a supplementary angle does not.
  const std::map<std::string, std::pair<double, double>> plausible = {
      {"SNA", {76, 88}},
      {"SNB", {73, 85}},
      {"ANB", {0, 7}},
      {"SN-MP", {24, 42}},
      {"facial_angle", {80, 95}},
      {"convexity_angle", {-5, 15}},
      {"AB_plane_angle", {-12, 0}},
      {"Y_axis", {52, 70}},
      {"FMA", {15, 35}},
      {"saddle_angle", {115, 132}},
      {"articular_angle", {130, 155}},
      {"gonial_angle", {115, 140}},
      {"facial_height_ratio", {55, 72}},
      {"A-N_perp", {-6, 6}},
      {"Pog-N_perp", {-15, 5}},
      {"sum_of_angles", {386, 406}},
      {"U1-NA_mm", {0, 9}},
      {"L1-NB_mm", {0, 9}},
      {"H_angle", {5, 22}}};
  for (const auto& [key, range] : plausible) {
    ASSERT_TRUE(sum.count(key)) << key;
    EXPECT_GE(sum[key], range.first) << key;
    EXPECT_LE(sum[key], range.second) << key;
  }
}

}  // namespace
}  // namespace cephtrace
