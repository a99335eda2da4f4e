// The JSON and table forms of a report, and the overlay lines.
#include <gtest/gtest.h>

#include "analysis/analysis_fixtures.hpp"
#include "cephtrace/analysis.hpp"

namespace cephtrace {
namespace {

TEST(AnalysisJson, ShapeOfMeasurementsAndUnavailable) {
  auto set = test::isbi_001();
  set.points[lm::Co].reset();
  const auto j = to_json(analyze(set));
  ASSERT_TRUE(j["measurements"].is_object());
  for (auto key : {"SNA",
                   "SNB",
                   "ANB",
                   "SN-MP",
                   "U1-SN",
                   "U1-NA_deg",
                   "U1-NA_mm",
                   "L1-NB_deg",
                   "L1-NB_mm",
                   "interincisal_angle",
                   "facial_angle",
                   "convexity_angle",
                   "AB_plane_angle",
                   "mandibular_plane_angle",
                   "Y_axis",
                   "FMA",
                   "IMPA",
                   "FMIA",
                   "saddle_angle",
                   "articular_angle",
                   "gonial_angle",
                   "sum_of_angles",
                   "facial_height_ratio",
                   "A-N_perp",
                   "Pog-N_perp",
                   "UL-E_line",
                   "LL-E_line",
                   "nasolabial_angle",
                   "H_angle",
                   "Wits",
                   "SN-OP",
                   "occlusal_plane_angle",
                   "facial_axis",
                   "soft_tissue_facial_angle",
                   "facial_convexity",
                   "lower_face_throat_angle"}) {
    ASSERT_TRUE(j["measurements"].contains(key)) << key;
    const auto& m = j["measurements"][key];
    EXPECT_TRUE(m["value"].is_number()) << key;
    EXPECT_TRUE(m["unit"].is_string()) << key;
    EXPECT_TRUE(m["norm_mean"].is_number()) << key;
    EXPECT_TRUE(m["norm_sd"].is_number()) << key;
    EXPECT_TRUE(m["deviation_sd"].is_number()) << key;
    EXPECT_TRUE(m["interpretation"].is_string()) << key;
    EXPECT_FALSE(m["norm_source"].get<std::string>().empty()) << key;
  }
  EXPECT_EQ(j["measurements"].begin().key(), "SNA");  // report order, not alphabetical
  EXPECT_EQ(j["measurements"]["SNA"]["unit"], "deg");
  EXPECT_EQ(j["measurements"]["UL-E_line"]["unit"], "mm");
  EXPECT_EQ(j["not_available"]["Co-A"]["reason"], "needs Co (missing)");
  EXPECT_TRUE(j["not_available"]["Ricketts_Xi_measures"]["reason"].is_string());
  EXPECT_EQ(j["facing"], "right");
  EXPECT_EQ(j["length_unit"], "mm");
  EXPECT_EQ(j["mm_per_pixel"], 0.1);
  EXPECT_TRUE(j["warnings"].is_array());
}

TEST(AnalysisJson, PixelLengthsHaveNullNorms) {
  auto set = test::isbi_001();
  set.pixel_spacing_mm.reset();
  const auto j = to_json(analyze(set));
  EXPECT_EQ(j["measurements"]["Co-A"]["unit"], "px");
  EXPECT_TRUE(j["measurements"]["Co-A"]["norm_mean"].is_null());
  EXPECT_TRUE(j["measurements"]["Co-A"]["deviation_sd"].is_null());
  EXPECT_TRUE(j["mm_per_pixel"].is_null());
  EXPECT_EQ(j["warnings"].size(), 1u);
}

TEST(AnalysisTable, ListsMeasuresUnavailableAndWarnings) {
  auto set = test::isbi_001();
  set.points[lm::Co].reset();
  set.pixel_spacing_mm.reset();
  const auto table = format_table(analyze(set));
  for (auto text :
       {"Steiner", "Wits", "Downs", "Tweed", "McNamara", "Ricketts", "Holdaway", "Burstone–Legan",
        "SNA", "82.0 ± 2.0", "Not available", "Ricketts_Xi_measures", "needs Co (missing)",
        "warning: pixel spacing unknown"})
    EXPECT_NE(table.find(text), std::string::npos) << text << "\n" << table;
}

TEST(AnalysisLines, ReferenceLinesBetweenPresentLandmarks) {
  auto set = test::isbi_001();
  auto lines = analysis_lines(set);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0].name, "S-N");
  EXPECT_EQ(lines[0].from, *set.points[lm::S]);
  EXPECT_EQ(lines[0].to, *set.points[lm::N]);
  EXPECT_EQ(lines[5].name, "E-line");
  EXPECT_EQ(lines[5].from, *set.points[lm::Prn]);
  EXPECT_EQ(lines[5].to, *set.points[lm::Pog_soft]);

  // The occlusal plane: molar contact midpoint to incisor overlap midpoint.
  EXPECT_EQ(lines[6].name, "OP");
  EXPECT_EQ(lines[6].from, (*set.points[lm::U6] + *set.points[lm::L6]) * 0.5);
  EXPECT_EQ(lines[6].to, (*set.points[lm::U1_tip] + *set.points[lm::L1_tip]) * 0.5);

  set.points[lm::Prn].reset();
  set.points[lm::U6].reset();
  lines = analysis_lines(set);
  EXPECT_EQ(lines.size(), 5u);
  for (const auto& l : lines) EXPECT_NE(l.name, "E-line");
}

}  // namespace
}  // namespace cephtrace
