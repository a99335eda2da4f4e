// The bad-input corpus of issue 17, generated here (no committed files): one test per class
// of hostile or broken input, each checking the exit code, that the error names the file
// (or the option), and that an output file already there is left untouched.
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "pipeline/model_manifest.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

namespace fs = std::filesystem;

using test::CliRun;
using test::read_text;

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
}

// Quoted for the shell. (Appended piecewise: "'" + s + "'" trips GCC 12's -Wrestrict.)
std::string q(const fs::path& p) {
  std::string quoted = "'";
  quoted += p.string();
  quoted += '\'';
  return quoted;
}
std::string models() { return " --model-dir " + q(test::fixture_models_dir()) + " --threads 1 "; }

// An output file with known content: each refusal must leave it as it was.
constexpr const char* kSentinel = "earlier result, must survive\n";
fs::path sentinel(const fs::path& dir, const std::string& name = "out.json") {
  write_text(dir / name, kSentinel);
  return dir / name;
}

fs::path good_image(const fs::path& dir, const std::string& name) {
  EXPECT_TRUE(cv::imwrite((dir / name).string(), test::synthetic_cephalogram({400, 480})));
  return dir / name;
}

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

void expect_refused(const CliRun& r, const std::string& names, const fs::path& untouched) {
  EXPECT_GT(r.exit_code, 0) << r.err;
  EXPECT_LT(r.exit_code, 128) << "crashed: " << r.err;
  EXPECT_NE(r.err.find(names), std::string::npos) << r.err;
  EXPECT_EQ(read_text(untouched), kSentinel);
}

// ---- Crashes ----------------------------------------------------------------------------

TEST(HostileInput, DeeplyNestedGroundTruthJson) {
  const auto dir = test::temp_dir();
  fs::create_directories(dir / "gt");
  write_text(dir / "gt" / "1.json", "{\"S\": " + nested(100000) + "}");
  write_text(dir / "pred.json", R"({"source": "1.png", "landmarks": [{"name": "S", "x": 1, "y": 2}]})");
  const auto out = sentinel(dir);
  const CliRun r = test::run_cephtrace("evaluate --gt-dir " + q(dir / "gt") + " --predictions " + q(dir / "pred.json") +
                          " --output " + q(out));
  expect_refused(r, (dir / "gt" / "1.json").string(), out);
  EXPECT_NE(r.err.find("--max-json-depth"), std::string::npos) << r.err;
}

TEST(HostileInput, DeeplyNestedLabelMeJson) {
  const auto dir = test::temp_dir();
  fs::create_directories(dir / "in");
  write_text(dir / "in" / "a.json", R"({"shapes": [{"label": "S", "points": )" + nested(100000) + "}]}");
  fs::create_directories(dir / "gt");
  const auto out = sentinel(dir / "gt", "a.json");
  const CliRun r = test::run_cephtrace("import --format labelme --input " + q(dir / "in") + " --output-dir " + q(dir / "gt"));
  expect_refused(r, (dir / "in" / "a.json").string(), out);
}

TEST(HostileInput, DeeplyNestedPredictionsAndLandmarks) {
  const auto dir = test::temp_dir();
  write_text(dir / "deep.json", "{\"a\": " + nested(100000) + "}");
  fs::create_directories(dir / "gt");
  write_text(dir / "gt" / "1.json", R"({"S": [1, 2]})");
  const auto out = sentinel(dir);
  expect_refused(test::run_cephtrace("evaluate --gt-dir " + q(dir / "gt") + " --predictions " + q(dir / "deep.json") +
                           " --output " + q(out)),
                 (dir / "deep.json").string(), out);
  expect_refused(test::run_cephtrace("analyze --landmarks " + q(dir / "deep.json") + " --output " + q(out)),
                 (dir / "deep.json").string(), out);
}

TEST(HostileInput, LongWhitespaceInAlternatePointsIsParsedWithoutRecursion) {
  const auto dir = test::temp_dir();
  write_text(dir / "points.csv", "document,points\n1.bmp,\"{0:" + std::string(50000, ' ') +
                                     "{'x': 10.0, 'y': 20.0}}\"\n");
  const CliRun r = test::run_cephtrace("import --format isbi-alternate --input " + q(dir / "points.csv") +
                          " --output-dir " + q(dir / "gt"));
  EXPECT_EQ(r.exit_code, 0) << r.err;  // index 0 imported, the 18 missing ones reported
  EXPECT_NE(read_text(dir / "gt" / "1.json").find("\"S\": [10.0,20.0]"), std::string::npos);
}

TEST(HostileInput, ThreadsOutOfRange) {
  const auto dir = test::temp_dir();
  const auto image = good_image(dir, "a.png");
  const auto out = sentinel(dir);
  expect_refused(test::run_cephtrace("predict --image " + q(image) + " --model-dir " + q(test::fixture_models_dir()) +
                           " --threads 100000 --output " + q(out)),
                 "--threads", out);
}

// ---- Limits -----------------------------------------------------------------------------

TEST(HostileInput, BootstrapOutOfRange) {
  const auto dir = test::temp_dir();
  fs::create_directories(dir / "gt");
  write_text(dir / "gt" / "1.json", R"({"S": [1, 2]})");
  write_text(dir / "pred.json", R"({"source": "1.png", "landmarks": [{"name": "S", "x": 1, "y": 2}]})");
  const auto out = sentinel(dir);
  expect_refused(test::run_cephtrace("evaluate --gt-dir " + q(dir / "gt") + " --predictions " + q(dir / "pred.json") +
                           " --bootstrap 2000000000 --output " + q(out)),
                 "--bootstrap", out);
}

TEST(HostileInput, ImageLimitsAreNamedAndCanBeChanged) {
  const auto dir = test::temp_dir();
  const auto image = good_image(dir, "a.png");
  const auto out = sentinel(dir);
  const CliRun r = test::run_cephtrace("predict --image " + q(image) + models() + "--max-pixels 1000 --output " + q(out));
  expect_refused(r, image.string(), out);
  EXPECT_NE(r.err.find("--max-pixels"), std::string::npos) << r.err;
  ASSERT_TRUE(cv::imwrite((dir / "strip.png").string(), cv::Mat(50, 2000, CV_8UC1, cv::Scalar(90))));
  const CliRun strip = test::run_cephtrace("predict --image " + q(dir / "strip.png") + models() + "--output " + q(out));
  expect_refused(strip, (dir / "strip.png").string(), out);
  EXPECT_NE(strip.err.find("--max-aspect-ratio"), std::string::npos) << strip.err;
}

// 200k keys took 96 s when the key handling was quadratic. Ten times the keys must cost
// far less than a hundred times the time (measured as a ratio, so that a slow machine or a
// sanitizer build does not fail it): about 10 when linear, about 70 before the fix.
TEST(HostileInput, GroundTruthWithManyKeysIsReadInLinearTime) {
  const auto seconds_for = [](int keys) {
    const auto dir = test::temp_dir() / std::to_string(keys);
    fs::create_directories(dir / "gt");
    std::string text = "{\"S\": [10, 20]";
    for (int i = 0; i < keys; ++i) text += ",\"x" + std::to_string(i) + "\": [1, 2]";
    write_text(dir / "gt" / "1.json", text + "}");
    write_text(dir / "pred.json", R"({"source": "1.png", "landmarks": [{"name": "S", "x": 11, "y": 20}]})");
    const auto start = std::chrono::steady_clock::now();
    const CliRun r = test::run_cephtrace("evaluate --quiet --scale recorded --pixel-spacing 0.1 --bootstrap 10 --gt-dir " +
                               q(dir / "gt") + " --predictions " + q(dir / "pred.json"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const double small = seconds_for(20000), large = seconds_for(200000);
  EXPECT_LT(large / small, 30.0) << small << " s for 20,000 keys, " << large << " s for 200,000";
}

// ---- Silent garbage ---------------------------------------------------------------------

TEST(HostileInput, PixelSpacingMustBeFiniteAndPlausible) {
  const auto dir = test::temp_dir();
  const auto image = good_image(dir, "a.png");
  fs::create_directories(dir / "gt");
  write_text(dir / "gt" / "1.json", R"({"S": [1, 2]})");
  write_text(dir / "pred.json", R"({"source": "1.png", "landmarks": [{"name": "S", "x": 1, "y": 2}]})");
  const auto out = sentinel(dir);
  for (const char* value : {"nan", "inf", "1e308", "0.0000001"}) {
    const std::string spacing = std::string(" --pixel-spacing ") + value;
    expect_refused(test::run_cephtrace("predict --image " + q(image) + models() + spacing + " --output " + q(out)),
                   "--pixel-spacing", out);
    expect_refused(test::run_cephtrace("evaluate --gt-dir " + q(dir / "gt") + " --predictions " + q(dir / "pred.json") +
                             spacing + " --output " + q(out)),
                   "--pixel-spacing", out);
    expect_refused(test::run_cephtrace("import --format canonical --input " + q(dir / "gt") + " --output-dir " +
                             q(dir / "o") + spacing),
                   "--pixel-spacing", out);
  }
}

TEST(HostileInput, GroundTruthCoordinateBeyondAnyImage) {
  const auto dir = test::temp_dir();
  fs::create_directories(dir / "gt");
  write_text(dir / "gt" / "1.json", R"({"S": [1.2e29, 5], "N": [100, 100]})");
  write_text(dir / "pred.json", R"({"source": "1.png", "landmarks": [{"name": "S", "x": 1, "y": 2}]})");
  const auto out = sentinel(dir);
  const CliRun r = test::run_cephtrace("evaluate --gt-dir " + q(dir / "gt") + " --predictions " + q(dir / "pred.json") +
                          " --output " + q(out));
  expect_refused(r, (dir / "gt" / "1.json").string(), out);
  EXPECT_NE(r.err.find("beyond any image"), std::string::npos) << r.err;
}

TEST(HostileInput, EmptyOutputPathIsAnError) {
  const auto dir = test::temp_dir();
  const auto image = good_image(dir, "a.png");
  const auto out = sentinel(dir);
  expect_refused(test::run_cephtrace("predict --image " + q(image) + models() + "--output ''"), "--output", out);
  expect_refused(test::run_cephtrace("predict --image " + q(image) + models() + "--overlay ''"), "--overlay", out);
}

TEST(HostileInput, EvaluateThatScoredNothingKeepsTheEarlierReport) {
  const auto dir = test::temp_dir();
  fs::create_directories(dir / "gt");
  write_text(dir / "gt" / "1.json", R"({"S": [1, 2]})");
  write_text(dir / "pred.json", R"({"source": "2.png", "landmarks": [{"name": "S", "x": 1, "y": 2}]})");
  const auto out = sentinel(dir);
  expect_refused(test::run_cephtrace("evaluate --gt-dir " + q(dir / "gt") + " --predictions " + q(dir / "pred.json") +
                           " --output " + q(out)),
                 "no landmark was scored", out);
}

TEST(HostileInput, OneRuleForRepeatedAndUnknownLandmarkNames) {
  const auto dir = test::temp_dir();
  const auto out = sentinel(dir);
  write_text(dir / "dup.json", R"({"landmarks": [{"name": "S", "x": 1, "y": 2}, {"name": "S", "x": 9, "y": 9}]})");
  const CliRun dup = test::run_cephtrace("analyze --landmarks " + q(dir / "dup.json") + " --output " + q(out));
  expect_refused(dup, (dir / "dup.json").string(), out);
  EXPECT_NE(dup.err.find("appears twice"), std::string::npos) << dup.err;
  write_text(dir / "dupkey.json", R"({"S": [1, 2], "S": [3, 4]})");
  expect_refused(test::run_cephtrace("analyze --landmarks " + q(dir / "dupkey.json") + " --output " + q(out)),
                 "appears twice", out);
  fs::create_directories(dir / "gt");
  write_text(dir / "gt" / "1.json", R"({"S": [1, 2]})");
  write_text(dir / "typo.json", R"({"source": "1.png", "landmarks": [{"name": "Sela", "x": 1, "y": 2}]})");
  const CliRun typo = test::run_cephtrace("evaluate --gt-dir " + q(dir / "gt") + " --predictions " + q(dir / "typo.json") +
                             " --output " + q(out));
  expect_refused(typo, (dir / "typo.json").string(), out);
  EXPECT_NE(typo.err.find("unknown landmark name 'Sela'"), std::string::npos) << typo.err;
}

// ---- Writing ----------------------------------------------------------------------------

TEST(HostileInput, AnOutputThatIsTheInputIsRefused) {
  const auto dir = test::temp_dir();
  const auto image = good_image(dir, "s.png");
  const std::string before = read_text(image);
  fs::create_hard_link(image, dir / "hardlink.png");
  for (const std::string option : {"--output", "--overlay"})
    for (const auto& target : {image, dir / "hardlink.png"}) {
      const CliRun r = test::run_cephtrace("predict --image " + q(image) + models() + option + " " + q(target));
      EXPECT_EQ(r.exit_code, 1) << r.err;
      EXPECT_NE(r.err.find("refusing to overwrite"), std::string::npos) << r.err;
      EXPECT_EQ(read_text(image), before) << option;
    }
}

TEST(HostileInput, SymlinksAreFollowedAndPipesWrittenThrough) {
  const auto dir = test::temp_dir();
  const auto image = good_image(dir, "a.png");
  fs::create_directories(dir / "real");
  fs::create_symlink(dir / "real" / "result.json", dir / "link.json");  // dangling until written
  const CliRun r = test::run_cephtrace("predict --quiet --image " + q(image) + models() + "--output " + q(dir / "link.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir / "link.json"));
  EXPECT_NE(read_text(dir / "real" / "result.json").find("\"landmarks\""), std::string::npos);

  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0600), 0);
  const std::string reader = "cat " + q(dir / "pipe") + " > " + q(dir / "from_pipe") + " &";
  ASSERT_EQ(std::system(reader.c_str()), 0);
  const CliRun p = test::run_cephtrace("predict --quiet --image " + q(image) + models() + "--output " + q(dir / "pipe"));
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_TRUE(fs::is_fifo(dir / "pipe"));  // not replaced by a regular file
  for (int i = 0; i < 50 && read_text(dir / "from_pipe").find("}\n") == std::string::npos; ++i)
    std::system("sleep 0.1");
  EXPECT_NE(read_text(dir / "from_pipe").find("\"landmarks\""), std::string::npos);
}

TEST(HostileInput, OverlaysOfImagesSharingAStemGetDistinctNames) {
  const auto dir = test::temp_dir();
  fs::create_directories(dir / "in");
  good_image(dir / "in", "p.png");
  good_image(dir / "in", "p.bmp");
  const CliRun r = test::run_cephtrace("predict --quiet --image-dir " + q(dir / "in") + models() + "--overlay " + q(dir / "ov"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "ov" / "p_png_overlay.png"));
  EXPECT_TRUE(fs::exists(dir / "ov" / "p_bmp_overlay.png"));
}

TEST(HostileInput, FolderRunsKeepEachResultAndResume) {
  const auto dir = test::temp_dir();
  fs::create_directories(dir / "in");
  const auto a = good_image(dir / "in", "a.png");
  const auto b = good_image(dir / "in", "b.png");
  // What a run killed after its first image leaves behind: a's result, and a cut-off line.
  const auto out = dir / "batch.json";
  write_text(out.string() + ".partial.jsonl",
             nlohmann::json{{"image", a.string()}, {"result", {{"marker", "from the killed run"}}}}.dump() +
                 "\n{\"image\": \"cut off");
  const CliRun r = test::run_cephtrace("predict --quiet --resume --image-dir " + q(dir / "in") + models() + "--output " + q(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("a.png done before (--resume)"), std::string::npos) << r.err;
  const auto batch = nlohmann::json::parse(read_text(out));
  EXPECT_EQ(batch[a.string()]["marker"], "from the killed run");  // not computed again
  EXPECT_TRUE(batch[b.string()].contains("landmarks"));
  EXPECT_FALSE(fs::exists(out.string() + ".partial.jsonl"));  // the final file has it all
}

TEST(HostileInput, UnreadableFolderEntriesAreNamedAndFailTheRun) {
  const auto dir = test::temp_dir();
  fs::create_directories(dir / "in" / "folder.jpg");
  good_image(dir / "in", "good.png");
  fs::create_symlink(dir / "in" / "missing.png", dir / "in" / "dangling.jpg");
  fs::create_symlink(dir / "in" / "loop2.png", dir / "in" / "loop1.png");
  fs::create_symlink(dir / "in" / "loop1.png", dir / "in" / "loop2.png");
  const auto out = sentinel(dir);
  const CliRun r = test::run_cephtrace("predict --quiet --image-dir " + q(dir / "in") + models() + "--output " + q(out));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("folder.jpg: is a folder"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dangling.jpg: broken symbolic link"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("loop1.png: symbolic link loop"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 of 5 images done"), std::string::npos) << r.err;
}

// ---- Models -----------------------------------------------------------------------------

TEST(HostileInput, ModelFilesAreCheckedAgainstTheManifest) {
  const auto dir = test::temp_dir();
  const auto image = good_image(dir, "a.png");
  fs::copy(test::fixture_models_dir(), dir / "models", fs::copy_options::recursive);
  write_text(dir / "models" / kModelManifest, model_manifest_text(dir / "models"));
  const std::string base = "predict --quiet --threads 1 --image " + q(image) + " --model-dir " + q(dir / "models");
  ASSERT_EQ(test::run_cephtrace(base).exit_code, 0);
  const auto stage1 = dir / "models" / "stage1" / "v4_stage1.onnx";
  std::string bytes = read_text(stage1);
  const size_t weight = bytes.find(std::string("\x00\x00\xC0\x40", 4));  // a 6.0f weight
  ASSERT_NE(weight, std::string::npos);
  bytes[weight + 3] = 0x41;  // one damaged byte: the model still loads, its answers change
  write_text(stage1, bytes);
  const auto out = sentinel(dir);
  const CliRun r = test::run_cephtrace(base + " --output " + q(out));
  expect_refused(r, stage1.string(), out);
  EXPECT_NE(r.err.find("does not match"), std::string::npos) << r.err;
  EXPECT_EQ(test::run_cephtrace(base + " --no-verify").exit_code, 0);  // the user's call
}

// The manifest is checked while the files load: a file cut short (an interrupted copy) fails
// to parse too, and the user is told that the file is damaged rather than what OpenCV says.
TEST(HostileInput, ATruncatedModelFileIsReportedAsDamaged) {
  const auto dir = test::temp_dir();
  const auto image = good_image(dir, "a.png");
  fs::copy(test::fixture_models_dir(), dir / "models", fs::copy_options::recursive);
  write_text(dir / "models" / kModelManifest, model_manifest_text(dir / "models"));
  const auto stage1 = dir / "models" / "stage1" / "v4_stage1.onnx";
  const std::string bytes = read_text(stage1);
  write_text(stage1, bytes.substr(0, bytes.size() / 3));
  const std::string base = "predict --quiet --threads 1 --image " + q(image) + " --model-dir " + q(dir / "models");
  const auto out = sentinel(dir);
  const CliRun r = test::run_cephtrace(base + " --output " + q(out));
  expect_refused(r, stage1.string(), out);
  EXPECT_NE(r.err.find("does not match"), std::string::npos) << r.err;
  const CliRun unchecked = test::run_cephtrace(base + " --no-verify");
  EXPECT_NE(unchecked.exit_code, 0);  // without the check, the parse error is what remains
  EXPECT_NE(unchecked.err.find(stage1.string()), std::string::npos) << unchecked.err;
}

// The shipped models/ holds the protocol models in models/isbi2015-protocol, with a manifest
// of their own: each folder checks its own files only.
TEST(HostileInput, ANestedModelFolderIsCheckedByItsOwnManifest) {
  const auto dir = test::temp_dir();
  const auto image = good_image(dir, "a.png");
  const auto outer = dir / "models", inner = outer / "isbi2015-protocol";
  fs::copy(test::fixture_models_dir(), outer, fs::copy_options::recursive);
  fs::copy(test::fixture_models_dir(), inner, fs::copy_options::recursive);
  write_text(inner / kModelManifest, model_manifest_text(inner));
  write_text(outer / kModelManifest, model_manifest_text(outer));
  EXPECT_EQ(read_text(outer / kModelManifest).find("isbi2015-protocol"), std::string::npos);
  const auto run = [&](const fs::path& models) {
    return test::run_cephtrace("predict --quiet --threads 1 --image " + q(image) + " --model-dir " + q(models));
  };
  ASSERT_EQ(run(outer).exit_code, 0) << run(outer).err;
  ASSERT_EQ(run(inner).exit_code, 0);
  const auto stage1 = inner / "stage1" / "v4_stage1.onnx";
  std::string bytes = read_text(stage1);
  bytes[bytes.size() / 2] ^= 0x01;
  write_text(stage1, bytes);
  EXPECT_EQ(run(outer).exit_code, 0);
  const CliRun r = run(inner);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("does not match"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cephtrace
