#include "core/preprocess.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.hpp"

namespace cephtrace {
namespace {

std::filesystem::path fixture(const std::string& name) {
  return test::source_dir() / "tests" / "fixtures" / "images" / name;
}

// Reads a PNG written by Pillow into the layout our functions use (RGB order or grey).
cv::Mat read_rgb_or_grey(const std::filesystem::path& file, bool rgb) {
  cv::Mat m = cv::imread(file.string(), rgb ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
  if (rgb && !m.empty()) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  return m;
}

struct Diff {
  double max = 0;
  int mismatches = 0;
};
Diff compare(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  Diff r;
  cv::minMaxLoc(d.reshape(1), nullptr, &r.max);
  r.mismatches = cv::countNonZero(d.reshape(1));
  return r;
}

// Fixture made by tools/make_pillow_reference.py from a crop of ISBI image 001 (the
// ruler: thin, sharp lines), covering shrinking, enlarging and mixed resizes.
TEST(PillowBilinearResize, MatchesPillowFixturesExactly) {
  const cv::Mat src_rgb = read_rgb_or_grey(fixture("pillow_src_rgb.png"), true);
  ASSERT_FALSE(src_rgb.empty()) << "missing fixture " << fixture("pillow_src_rgb.png");
  cv::Mat src_grey;
  cv::extractChannel(src_rgb, src_grey, 0);  // the "L" fixtures were made from the R channel

  for (const cv::Size size : {cv::Size(64, 64), cv::Size(300, 300), cv::Size(57, 400)}) {
    for (const bool rgb : {true, false}) {
      const std::string name = std::string("pillow_") + (rgb ? "RGB" : "L") + "_" +
                               std::to_string(size.width) + "x" + std::to_string(size.height) +
                               ".png";
      const cv::Mat expected = read_rgb_or_grey(fixture(name), rgb);
      ASSERT_FALSE(expected.empty()) << "missing fixture " << name;
      const cv::Mat ours = pillow_bilinear_resize(rgb ? src_rgb : src_grey, size);
      ASSERT_EQ(ours.size(), size);
      ASSERT_EQ(ours.type(), expected.type()) << name;
      const Diff d = compare(ours, expected);
      EXPECT_EQ(d.mismatches, 0) << name << ": max difference " << d.max;
    }
  }
}

// The real use: a full 1935×2400 ISBI image to 512×512, against Pillow run now.
TEST(PillowBilinearResize, MatchesPillowOnFullIsbiImage) {
  CEPHTRACE_REQUIRE_ISBI(isbi);
  const auto dir = test::temp_dir();
  // Pillow also writes the decoded source, so that JPEG decoder differences cannot mix
  // into the comparison of the resize itself.
  const std::string script =
      "import sys\n"
      "from PIL import Image\n"
      "src, out = sys.argv[1], sys.argv[2]\n"
      "for mode in ('RGB', 'L'):\n"
      "    im = Image.open(src).convert(mode)\n"
      "    im.save(f'{out}/src_{mode}.png')\n"
      "    im.resize((512, 512), Image.BILINEAR).save(f'{out}/ref_{mode}.png')\n";
  const auto script_file = dir / "resize.py";
  {
    std::FILE* f = std::fopen(script_file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(script.c_str(), f);
    std::fclose(f);
  }
  const std::string cmd = "/usr/bin/python3 '" + script_file.string() + "' '" +
                          (isbi / "images" / "001.jpg").string() + "' '" + dir.string() +
                          "' 2>/dev/null";
  if (std::system(cmd.c_str()) != 0)
    GTEST_SKIP() << "/usr/bin/python3 with Pillow is not available; skipping the live comparison";

  for (const bool rgb : {true, false}) {
    const std::string mode = rgb ? "RGB" : "L";
    const cv::Mat src = read_rgb_or_grey(dir / ("src_" + mode + ".png"), rgb);
    const cv::Mat expected = read_rgb_or_grey(dir / ("ref_" + mode + ".png"), rgb);
    ASSERT_EQ(src.size(), cv::Size(1935, 2400));
    const cv::Mat ours = pillow_bilinear_resize(src, cv::Size(512, 512));
    const Diff d = compare(ours, expected);
    EXPECT_EQ(d.mismatches, 0) << mode << ": max difference " << d.max;
    EXPECT_LE(d.max, 1.0) << mode;
  }
}

// Shrinking widens the filter (anti-aliasing), so thin lines are averaged, not sampled:
// the result differs from OpenCV's INTER_LINEAR but is close to an area average.
TEST(PillowBilinearResize, ShrinkingAveragesLikeAnAreaFilter) {
  cv::Mat stripes(400, 400, CV_8UC1);
  for (int x = 0; x < stripes.cols; ++x) stripes.col(x).setTo(x % 4 == 0 ? 255 : 0);
  const cv::Mat ours = pillow_bilinear_resize(stripes, cv::Size(50, 50));
  cv::Mat area;
  cv::resize(stripes, area, cv::Size(50, 50), 0, 0, cv::INTER_AREA);
  // Away from the borders every output pixel covers whole stripe periods: 255/4 ≈ 64.
  const cv::Mat inner = ours(cv::Rect(2, 2, 46, 46));
  double lo, hi;
  cv::minMaxLoc(inner, &lo, &hi);
  EXPECT_GE(lo, 60);
  EXPECT_LE(hi, 68);
  EXPECT_LE(compare(inner, area(cv::Rect(2, 2, 46, 46))).max, 8);
}

TEST(PillowBilinearResize, KeepsConstantImagesConstant) {
  const cv::Mat grey(237, 311, CV_8UC1, cv::Scalar(137));
  const cv::Mat colour(237, 311, CV_8UC3, cv::Scalar(10, 200, 255));
  for (const cv::Size size : {cv::Size(512, 512), cv::Size(31, 500), cv::Size(1, 1)}) {
    EXPECT_EQ(cv::countNonZero(pillow_bilinear_resize(grey, size) != 137), 0);
    cv::Mat out = pillow_bilinear_resize(colour, size);
    cv::Mat expected(size, CV_8UC3, cv::Scalar(10, 200, 255));
    EXPECT_EQ(compare(out, expected).max, 0);
  }
}

TEST(PillowBilinearResize, SameSizeIsACopy) {
  cv::Mat src(40, 50, CV_8UC3);
  cv::randu(src, 0, 256);
  const cv::Mat out = pillow_bilinear_resize(src, src.size());
  EXPECT_EQ(compare(out, src).max, 0);
  EXPECT_NE(out.data, src.data);
}

TEST(PillowBilinearResize, RejectsUnsupportedInput) {
  EXPECT_THROW(pillow_bilinear_resize(cv::Mat(), cv::Size(8, 8)), std::invalid_argument);
  EXPECT_THROW(pillow_bilinear_resize(cv::Mat(10, 10, CV_16UC1), cv::Size(8, 8)),
               std::invalid_argument);
  EXPECT_THROW(pillow_bilinear_resize(cv::Mat(10, 10, CV_8UC1), cv::Size(0, 8)),
               std::invalid_argument);
}

TEST(Stage0Resize, IsOpenCvBilinearTo512) {
  cv::Mat grey(2400, 1935, CV_8UC1);
  cv::randu(grey, 0, 256);
  const cv::Mat out = stage0_resize(grey);
  ASSERT_EQ(out.size(), cv::Size(512, 512));
  ASSERT_EQ(out.type(), CV_8UC1);
  // INTER_LINEAR samples instead of averaging: random noise keeps its full range, which an
  // anti-aliased (Pillow/area) resize would smooth away.
  double lo, hi;
  cv::minMaxLoc(out, &lo, &hi);
  EXPECT_LT(lo, 20);
  EXPECT_GT(hi, 235);
  EXPECT_THROW(stage0_resize(cv::Mat(10, 10, CV_8UC3)), std::invalid_argument);
}

}  // namespace
}  // namespace cephtrace
