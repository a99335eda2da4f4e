// Importers and the canonical format: round trips on small fixtures and every malformed case.
#include <algorithm>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "cephtrace/ground_truth.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

namespace fs = std::filesystem;

fs::path fixture(const std::string& name) { return test::source_dir() / "tests" / "fixtures" / "gt" / name; }

const GroundTruth* record(const ImportResult& r, const std::string& stem) {
  for (const auto& g : r.records)
    if (g.stem == stem) return &g;
  return nullptr;
}

// The issue about `image` (and `landmark`, when given), or nullptr.
const ImportIssue* issue(const ImportResult& r, const std::string& image, const std::string& landmark = "") {
  for (const auto& i : r.issues)
    if (i.image == image && (landmark.empty() || i.landmark == landmark)) return &i;
  return nullptr;
}

bool refused(const ImportResult& r, const std::string& image) {
  for (const auto& i : r.issues)
    if (i.image == image && i.image_refused) return true;
  return false;
}

void expect_point(const GroundTruth& g, const std::string& name, double x, double y) {
  const auto* p = g.find(name);
  ASSERT_NE(p, nullptr) << name << " missing in " << g.stem;
  EXPECT_DOUBLE_EQ(p->x, x) << name;
  EXPECT_DOUBLE_EQ(p->y, y) << name;
}

void expect_same(const GroundTruth& a, const GroundTruth& b) {
  ASSERT_EQ(a.landmarks.size(), b.landmarks.size());
  for (size_t i = 0; i < a.landmarks.size(); ++i) {
    EXPECT_EQ(a.landmarks[i].name, b.landmarks[i].name);
    EXPECT_DOUBLE_EQ(a.landmarks[i].x, b.landmarks[i].x);
    EXPECT_DOUBLE_EQ(a.landmarks[i].y, b.landmarks[i].y);
  }
  EXPECT_EQ(a.pixel_spacing_mm, b.pixel_spacing_mm);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.derived, b.derived);
  EXPECT_EQ(a.image_width, b.image_width);
}

GroundTruth round_trip(const GroundTruth& g) {
  const auto file = test::temp_dir() / (g.stem + ".json");
  write_ground_truth_file(file, g);
  return read_ground_truth_file(file);
}

TEST(Aliases, ResolveCommonNamesToCanonical) {
  const auto t = AliasTable::builtin();
  EXPECT_EQ(t.resolve("sella"), "S");
  EXPECT_EQ(t.resolve("S"), "S");
  EXPECT_EQ(t.resolve("Sella turcica"), "S");
  EXPECT_EQ(t.resolve("u1-tip"), "U1_tip");
  EXPECT_EQ(t.resolve("soft tissue pogonion"), "Pog_soft");
  EXPECT_EQ(t.resolve("Po"), "Po");
  EXPECT_EQ(t.resolve("Pog"), "Pog");
  EXPECT_EQ(t.resolve("key ridge"), std::nullopt);
  // Extended landmarks, by name and anatomical name.
  EXPECT_EQ(t.resolve("U6"), "U6");
  EXPECT_EQ(t.resolve("upper first molar"), "U6");
  EXPECT_EQ(t.resolve("Columella"), "Cm");
  EXPECT_EQ(t.resolve("soft tissue nasion"), "N_soft");
  EXPECT_EQ(t.resolve("PT point"), "PT");
  EXPECT_EQ(t.resolve("pt"), "PT");
  EXPECT_EQ(t.resolve("Ptm"), "Ptm");
}

TEST(Aliases, UserFileExtendsTheTableAndBadTargetsAreRefused) {
  auto t = AliasTable::builtin();
  const auto dir = test::temp_dir();
  std::ofstream(dir / "aliases.json") << R"({"key ridge": "Ba"})";
  t.load(dir / "aliases.json");
  EXPECT_EQ(t.resolve("Key Ridge"), "Ba");
  std::ofstream(dir / "bad.json") << R"({"x": "NotALandmark"})";
  try {
    t.load(dir / "bad.json");
    FAIL() << "non-canonical alias target accepted";
  } catch (const GroundTruthError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos);
  }
}

TEST(IsbiSenior, ImportsEveryLandmarkInIsbiOrderAndRoundTrips) {
  ImportOptions o;
  o.pixel_spacing_mm = 0.1;
  const auto r = import_isbi_senior(fixture("senior_small.csv"), o);
  EXPECT_TRUE(r.issues.empty());
  ASSERT_EQ(r.records.size(), 2u);
  const auto& g = r.records[0];
  EXPECT_EQ(g.stem, "151");
  EXPECT_EQ(g.landmarks.size(), 19u);
  expect_point(g, "S", 797, 1034);
  expect_point(g, "L1_tip", 1488, 1629);  // column 11
  expect_point(g, "U1_tip", 1531, 1662);  // column 12
  expect_point(g, "Ar", 686, 1336);       // column 19
  EXPECT_EQ(g.pixel_spacing_mm, 0.1);
  EXPECT_NE(g.source.find("senior"), std::string::npos);
  expect_same(round_trip(g), g);
}

TEST(IsbiSenior, MalformedValuesAreDroppedAndShortRowsRefused) {
  ImportOptions o;
  o.image_size = [](const std::string&) { return std::optional<std::pair<int, int>>({1935, 2400}); };
  const auto r = import_isbi_senior(fixture("senior_malformed.csv"), o);
  const auto* g151 = record(r, "151");
  ASSERT_NE(g151, nullptr);
  EXPECT_EQ(g151->find("S"), nullptr);  // NaN
  EXPECT_EQ(g151->landmarks.size(), 18u);
  ASSERT_NE(issue(r, "151", "S"), nullptr);
  EXPECT_NE(issue(r, "151", "S")->file.find("senior_malformed.csv"), std::string::npos);
  EXPECT_EQ(record(r, "152")->find("N"), nullptr);  // negative x
  EXPECT_NE(issue(r, "152", "N")->reason.find("negative"), std::string::npos);
  EXPECT_EQ(record(r, "153")->find("Or"), nullptr);  // x = 5000 > 1935
  EXPECT_NE(issue(r, "153", "Or")->reason.find("outside"), std::string::npos);
  EXPECT_EQ(record(r, "154"), nullptr);  // too few fields
  ASSERT_NE(issue(r, "154"), nullptr);
  EXPECT_TRUE(refused(r, "154"));
}

TEST(IsbiSenior, MissingColumnRefusesTheFile) {
  try {
    import_isbi_senior(fixture("senior_missing_column.csv"));
    FAIL() << "a file without column 7_y was imported";
  } catch (const GroundTruthError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("senior_missing_column.csv"), std::string::npos);
    EXPECT_NE(what.find("7_y"), std::string::npos);
  }
}

TEST(IsbiAlternate, ParsesDictLiteralsAndHandlesDuplicatesAndNaN) {
  const auto r = import_isbi_alternate(fixture("alternate_small.csv"));
  const auto* g = record(r, "151");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->landmarks.size(), 19u);
  expect_point(*g, "S", 800, 1030);
  expect_point(*g, "Ar", 686, 1336);
  ASSERT_NE(issue(r, "151"), nullptr);  // listed twice, identical: kept once, reported
  EXPECT_FALSE(refused(r, "151"));
  EXPECT_EQ(record(r, "152"), nullptr);  // index 1 twice
  EXPECT_TRUE(refused(r, "152"));
  const auto* g153 = record(r, "153");
  ASSERT_NE(g153, nullptr);
  EXPECT_EQ(g153->find("S"), nullptr);  // nan
  expect_point(*g153, "N", 1355, 1009);
  EXPECT_NE(issue(r, "153", "S"), nullptr);
  EXPECT_NE(issue(r, "153", "Or"), nullptr);  // index 2 absent
  EXPECT_EQ(record(r, "154"), nullptr);       // listed twice with different points
  EXPECT_TRUE(refused(r, "154"));
}

TEST(Cl2023, MapsCanonicalAndExtendedLandmarks) {
  const auto r = import_cl2023(fixture("cl2023"));
  ASSERT_EQ(r.records.size(), 1u);
  const auto& g = r.records[0];
  EXPECT_EQ(g.stem, "151");
  EXPECT_EQ(g.landmarks.size(), 38u);  // nothing dropped
  expect_point(g, "S", 101, 201);
  expect_point(g, "Ar", 119, 219);
  expect_point(g, "D", 120, 220);
  expect_point(g, "U1_root", 121, 221);
  expect_point(g, "L1_root", 122, 222);
  expect_point(g, "Co", 125, 225);
  expect_point(g, "Prn", 126, 226);
  expect_point(g, "Ba", 127, 227);
  // The other 14 under their EXTENDED_14 names (tables.def).
  expect_point(g, "Cm", 123, 223);
  expect_point(g, "PT", 128, 228);
  expect_point(g, "L6", 138, 238);
  EXPECT_EQ(g.landmarks.front().name, "S");  // traced order: canonical, then extended
  EXPECT_EQ(g.landmarks.back().name, "L6");
  expect_same(round_trip(g), g);
}

TEST(Cl2023, BadValueDropsTheLandmarkDuplicateRefusesTheImage) {
  const auto r = import_cl2023(fixture("cl2023_bad"));
  const auto* g = record(r, "152");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->find("B"), nullptr);          // "6,200,x"
  EXPECT_EQ(g->find("LL_border"), nullptr);  // line 31 absent
  EXPECT_EQ(g->landmarks.size(), 36u);
  EXPECT_NE(issue(r, "152", "B"), nullptr);
  EXPECT_NE(issue(r, "152", "LL_border"), nullptr);
  EXPECT_EQ(record(r, "153"), nullptr);
  ASSERT_NE(issue(r, "153"), nullptr);
  EXPECT_TRUE(refused(r, "153"));
  EXPECT_NE(issue(r, "153")->reason.find("twice"), std::string::npos);
}

TEST(LabelMe, MapsLabelsThroughAliasesAndKeepsUnknownOnes) {
  const auto r = import_labelme(fixture("labelme"));
  ASSERT_EQ(r.records.size(), 1u);
  const auto& g = r.records[0];
  EXPECT_EQ(g.stem, "151");
  expect_point(g, "S", 797, 1034);
  expect_point(g, "N", 1399, 908);
  expect_point(g, "U1_tip", 1531.5, 1662.25);
  expect_point(g, "Pog_soft", 1499, 1973);
  expect_point(g, "key ridge", 1100, 1500);  // unknown label: kept, and reported
  EXPECT_NE(issue(r, "151", "key ridge"), nullptr);
  EXPECT_NE(issue(r, "151", "mandible"), nullptr);  // polygon ignored, reported
  EXPECT_EQ(g.landmarks.size(), 5u);
  EXPECT_EQ(g.image_width, 1935);
  expect_same(round_trip(g), g);

  ImportOptions o;
  o.aliases.add("key ridge", "Ba");
  expect_point(import_labelme(fixture("labelme"), o).records[0], "Ba", 1100, 1500);
}

TEST(LabelMe, DuplicatedLabelRefusesOutOfImageDrops) {
  const auto r = import_labelme(fixture("labelme_bad"));
  EXPECT_EQ(record(r, "152"), nullptr);  // "S" and "Sella turcica"
  ASSERT_NE(issue(r, "152"), nullptr);
  EXPECT_TRUE(refused(r, "152"));
  const auto* g = record(r, "153");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->find("S"), nullptr);  // x = 2000 > imageWidth 1935
  EXPECT_NE(issue(r, "153", "S"), nullptr);
  expect_point(*g, "N", 1399, 908);

  // Wrong JSON types are reported, never a crash: shape_type null = point, no size known,
  // a shape without points or with a string coordinate loses that landmark.
  const auto* g154 = record(r, "154");
  ASSERT_NE(g154, nullptr);
  expect_point(*g154, "N", 1399, 908);
  EXPECT_FALSE(g154->image_width.has_value());
  EXPECT_EQ(g154->landmarks.size(), 1u);
  EXPECT_NE(issue(r, "154", "Me"), nullptr);
  EXPECT_NE(issue(r, "154", "Go"), nullptr);
}

TEST(Canonical, ReadsBothPointFormsNullAndMetadata) {
  const auto g = read_ground_truth_file(fixture("canonical/151.json"));
  EXPECT_EQ(g.stem, "151");
  expect_point(g, "S", 797, 1034);
  expect_point(g, "N", 1399.5, 908.25);
  EXPECT_EQ(g.find("Pm"), nullptr);  // null = missing
  expect_point(g, "sella_turcica_note", 10, 20);
  EXPECT_EQ(g.landmarks.size(), 3u);
  EXPECT_EQ(g.pixel_spacing_mm, 0.1);
  EXPECT_EQ(g.source, "hand-made fixture");
  EXPECT_EQ(g.derived, std::vector<std::string>{"Pm"});
  EXPECT_EQ(g.image_height, 2400);
  expect_same(round_trip(g), g);
}

TEST(Canonical, EveryMalformedFileIsRefusedNamingFileAndReason) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"duplicate_key.json", "twice"}, {"duplicate_alias.json", "both give"},
      {"nan_string.json", "expected [x, y]"}, {"nan_literal.json", "not valid JSON"},
      {"negative.json", "negative"}, {"outside.json", "outside"},
      {"short_point.json", "expected [x, y]"}, {"not_object.json", "expected an object"}};
  for (const auto& [file, reason] : cases) {
    try {
      read_ground_truth_file(fixture("canonical_bad") / file);
      ADD_FAILURE() << file << " was accepted";
    } catch (const GroundTruthError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(file), std::string::npos) << what;
      EXPECT_NE(what.find(reason), std::string::npos) << what;
    }
  }
  // The folder importer reports each of them and produces no record.
  const auto r = import_canonical(fixture("canonical_bad"));
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(r.issues.size(), cases.size());
}

TEST(Import, FormatNamesAndMissingInput) {
  EXPECT_EQ(parse_import_format("cl2023"), ImportFormat::Cl2023);
  EXPECT_EQ(parse_import_format("isbi-alternate"), ImportFormat::IsbiAlternate);
  EXPECT_EQ(parse_import_format("csv"), std::nullopt);
  EXPECT_THROW(import_cl2023(fixture("does_not_exist")), GroundTruthError);
  EXPECT_THROW(import_isbi_senior(fixture("does_not_exist.csv")), GroundTruthError);
}

}  // namespace
}  // namespace cephtrace
