#include "cephtrace/image_io.hpp"

#include <fstream>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cephtrace/limits.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

namespace fs = std::filesystem;

// A smooth pattern with different content per channel (so channel order matters).
cv::Mat pattern(int width, int height, int type) {
  cv::Mat m(height, width, type);
  const double max = CV_MAT_DEPTH(type) == CV_16U ? 4000.0 : 255.0;  // 16-bit: 12-bit range
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < m.channels(); ++c) {
        const double v = (c == 0 ? x / double(width) : c == 1 ? y / double(height)
                                                              : (x + y) / double(width + height));
        const double value = 100 + v * (max - 100);
        if (m.depth() == CV_8U)
          m.ptr<uint8_t>(y)[x * m.channels() + c] = cv::saturate_cast<uint8_t>(value);
        else
          m.ptr<uint16_t>(y)[x * m.channels() + c] = cv::saturate_cast<uint16_t>(value);
      }
  return m;
}

double max_diff(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return 1e9;
  cv::Mat d;
  cv::absdiff(a, b, d);
  double hi = 0;
  cv::minMaxLoc(d.reshape(1), nullptr, &hi);
  return hi;
}

cv::Mat bgr_to_rgb(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
}

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `fn` and returns the ImageError message ("" if nothing was thrown).
template <class Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const ImageError& e) {
    return e.what();
  }
  return "";
}

void expect_valid(const LoadedImage& img, cv::Size size) {
  EXPECT_EQ(img.rgb.type(), CV_8UC3);
  EXPECT_EQ(img.grey.type(), CV_8UC1);
  EXPECT_EQ(img.rgb.size(), size);
  EXPECT_EQ(img.grey.size(), size);
}

// --- formats and bit depths -------------------------------------------------------------

TEST(LoadImage, GreyPngIsExactAndReplicatedToRgb) {
  const auto file = test::temp_dir() / "grey.png";
  const cv::Mat src = pattern(300, 320, CV_8UC1);
  ASSERT_TRUE(cv::imwrite(file.string(), src));
  const LoadedImage img = load_image(file);
  expect_valid(img, src.size());
  EXPECT_EQ(max_diff(img.grey, src), 0);
  cv::Mat channels[3];
  cv::split(img.rgb, channels);
  for (const auto& ch : channels) EXPECT_EQ(max_diff(ch, src), 0);
  EXPECT_EQ(img.source, file.string());
  EXPECT_FALSE(img.pixel_spacing_mm.has_value());
}

TEST(LoadImage, ColourFilesGiveRgbOrderAndOpenCvGreyDecode) {
  const auto dir = test::temp_dir();
  const cv::Mat bgr = pattern(310, 300, CV_8UC3);
  for (const std::string ext : {".png", ".bmp", ".tif", ".jpg"}) {
    const auto file = dir / ("colour" + ext);
    ASSERT_TRUE(cv::imwrite(file.string(), bgr)) << ext;
    const LoadedImage img = load_image(file);
    expect_valid(img, bgr.size());
    // Lossless formats round-trip exactly; JPEG only approximately.
    EXPECT_LE(max_diff(img.rgb, bgr_to_rgb(bgr)), ext == ".jpg" ? 12 : 0) << ext;
    // Stage 0 needs exactly what OpenCV's grey decode of the file gives (spec §3).
    EXPECT_EQ(max_diff(img.grey, cv::imread(file.string(), cv::IMREAD_GRAYSCALE)), 0) << ext;
  }
}

// rgb_is_grey lets the pipeline resample the grey alone: true only when every channel of rgb
// equals grey, as for grey files and for grey films stored in colour (ISBI's JPEGs).
TEST(LoadImage, RgbIsGreyOnlyWhenTheChannelsRepeatTheGrey) {
  const auto dir = test::temp_dir();
  const cv::Mat grey = pattern(300, 310, CV_8UC1);
  cv::Mat grey_in_colour;
  cv::cvtColor(grey, grey_in_colour, cv::COLOR_GRAY2BGR);
  cv::Mat tinted = grey_in_colour.clone();
  tinted.at<cv::Vec3b>(123, 45)[1] ^= 1;  // one channel of one pixel differs
  struct Case { std::string name; cv::Mat pixels; bool expected; };
  const Case cases[] = {{"grey.png", grey, true},
                        {"grey_in_colour.png", grey_in_colour, true},
                        {"grey_in_colour.jpg", grey_in_colour, true},
                        {"tinted.png", tinted, false}};
  for (const auto& [name, pixels, expected] : cases) {
    const auto file = dir / name;
    ASSERT_TRUE(cv::imwrite(file.string(), pixels)) << name;
    const LoadedImage img = load_image(file);
    EXPECT_EQ(img.rgb_is_grey, expected) << name;
    cv::Mat channels[3];
    cv::split(img.rgb, channels);
    const bool repeats = max_diff(channels[0], img.grey) == 0 && max_diff(channels[1], img.grey) == 0 &&
                         max_diff(channels[2], img.grey) == 0;
    EXPECT_EQ(repeats, expected) << name;  // the flag tells the truth about the pixels
  }
  EXPECT_TRUE(from_mat(grey_in_colour).rgb_is_grey);
  EXPECT_FALSE(from_mat(tinted).rgb_is_grey);
  EXPECT_FALSE(from_mat(pattern(300, 300, CV_8UC3)).rgb_is_grey);
}

TEST(LoadImage, EightBitGreyTiffAndJpeg) {
  const auto dir = test::temp_dir();
  const cv::Mat src = pattern(300, 300, CV_8UC1);
  for (const std::string ext : {".tiff", ".jpeg"}) {
    const auto file = dir / ("grey" + ext);
    ASSERT_TRUE(cv::imwrite(file.string(), src));
    const LoadedImage img = load_image(file);
    expect_valid(img, src.size());
    EXPECT_LE(max_diff(img.grey, src), ext == ".jpeg" ? 4 : 0) << ext;
  }
}

// 16-bit images are stretched from their actual value range to 0..255 (documented choice).
TEST(LoadImage, SixteenBitGreyPngAndTiffUseTheirValueRange) {
  const auto dir = test::temp_dir();
  const cv::Mat src = pattern(320, 300, CV_16UC1);  // values 100..~4000
  double lo, hi;
  cv::minMaxLoc(src, &lo, &hi);
  cv::Mat expected;
  src.convertTo(expected, CV_8U, 255.0 / (hi - lo), -lo * 255.0 / (hi - lo));
  for (const std::string ext : {".png", ".tif"}) {
    const auto file = dir / ("grey16" + ext);
    ASSERT_TRUE(cv::imwrite(file.string(), src)) << ext;
    const LoadedImage img = load_image(file);
    expect_valid(img, src.size());
    EXPECT_EQ(max_diff(img.grey, expected), 0) << ext;
    double glo, ghi;
    cv::minMaxLoc(img.grey, &glo, &ghi);
    EXPECT_EQ(glo, 0) << ext;
    EXPECT_EQ(ghi, 255) << ext;
    ASSERT_FALSE(img.notes.empty()) << ext;
    EXPECT_NE(img.notes.front().find("16-bit"), std::string::npos);
  }
}

TEST(LoadImage, SixteenBitColourTiff) {
  const auto file = test::temp_dir() / "colour16.tiff";
  const cv::Mat bgr16 = pattern(300, 300, CV_16UC3);
  ASSERT_TRUE(cv::imwrite(file.string(), bgr16));
  const LoadedImage img = load_image(file);
  expect_valid(img, bgr16.size());
  // R (from the blue-stored channel 2) and B (channel 0) keep their own gradients.
  double lo, hi;
  cv::minMaxLoc(bgr16.reshape(1), &lo, &hi);
  const cv::Vec3b corner = img.rgb.at<cv::Vec3b>(299, 299);
  const cv::Vec3w src = bgr16.at<cv::Vec3w>(299, 299);
  for (int c = 0; c < 3; ++c)
    EXPECT_NEAR(corner[c], (src[2 - c] - lo) * 255.0 / (hi - lo), 0.51) << "channel " << c;
}

TEST(LoadImage, RgbaPngDropsAlpha) {
  const auto file = test::temp_dir() / "rgba.png";
  cv::Mat bgra = pattern(300, 300, CV_8UC4);
  bgra(cv::Rect(0, 0, 150, 300)).forEach<cv::Vec4b>([](cv::Vec4b& p, const int*) { p[3] = 0; });
  ASSERT_TRUE(cv::imwrite(file.string(), bgra));
  const LoadedImage img = load_image(file);
  expect_valid(img, bgra.size());
  cv::Mat bgr;
  cv::cvtColor(bgra, bgr, cv::COLOR_BGRA2BGR);
  EXPECT_EQ(max_diff(img.rgb, bgr_to_rgb(bgr)), 0);  // colour kept, transparency ignored
}

TEST(LoadImage, LargeAndSmallAcceptedSizes) {
  const auto dir = test::temp_dir();
  for (const cv::Size size : {cv::Size(300, 300), cv::Size(4000, 5000)}) {
    const auto file = dir / ("size" + std::to_string(size.width) + ".jpg");
    ASSERT_TRUE(cv::imwrite(file.string(), pattern(size.width, size.height, CV_8UC3)));
    expect_valid(load_image(file), size);
  }
}

TEST(LoadImage, RealIsbiImage) {
  CEPHTRACE_REQUIRE_ISBI(isbi);
  const auto file = isbi / "images" / "001.jpg";
  const LoadedImage img = load_image(file);
  expect_valid(img, cv::Size(1935, 2400));
  EXPECT_EQ(max_diff(img.grey, cv::imread(file.string(), cv::IMREAD_GRAYSCALE)), 0);
}

TEST(DecodeImage, DecodesFromMemoryAndNamesTheSource) {
  const cv::Mat bgr = pattern(300, 300, CV_8UC3);
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", bgr, png));
  const LoadedImage img = decode_image(png, "upload.png");
  EXPECT_EQ(max_diff(img.rgb, bgr_to_rgb(bgr)), 0);
  EXPECT_EQ(img.source, "upload.png");

  const std::string msg = error_of([] { decode_image({}, "upload.png"); });
  EXPECT_NE(msg.find("upload.png"), std::string::npos) << msg;
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
}

TEST(FromMat, ConvertsOpenCvLayouts) {
  const cv::Mat bgr = pattern(300, 300, CV_8UC3);
  const LoadedImage colour = from_mat(bgr, "mat");
  EXPECT_EQ(max_diff(colour.rgb, bgr_to_rgb(bgr)), 0);
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  EXPECT_EQ(max_diff(colour.grey, grey), 0);

  cv::Mat bgra;
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  EXPECT_EQ(max_diff(from_mat(bgra).rgb, colour.rgb), 0);

  const LoadedImage deep = from_mat(pattern(300, 300, CV_16UC1));
  double lo, hi;
  cv::minMaxLoc(deep.grey, &lo, &hi);
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 255);

  EXPECT_THROW(from_mat(cv::Mat(300, 300, CV_32FC1, cv::Scalar(0.5))), ImageError);
  EXPECT_THROW(from_mat(cv::Mat(300, 300, CV_8UC2, cv::Scalar(1, 2))), ImageError);
  EXPECT_THROW(from_mat(cv::Mat()), ImageError);
  EXPECT_THROW(from_mat(cv::Mat(31, 300, CV_8UC1, cv::Scalar(0))), ImageError);
}

TEST(FromMat, RgbOrderGivesTheSameImageAsBgr) {
  const cv::Mat bgr = pattern(300, 300, CV_8UC3);
  const cv::Mat rgb = bgr_to_rgb(bgr);
  const LoadedImage from_bgr = from_mat(bgr, "bgr");
  const LoadedImage from_rgb = from_mat(rgb, "rgb", ChannelOrder::RGB);
  EXPECT_EQ(max_diff(from_rgb.rgb, from_bgr.rgb), 0);
  EXPECT_EQ(max_diff(from_rgb.grey, from_bgr.grey), 0);
  EXPECT_NE(from_rgb.rgb.data, rgb.data);  // a copy: the caller's buffer is not kept

  cv::Mat rgba;
  cv::cvtColor(rgb, rgba, cv::COLOR_RGB2RGBA);
  EXPECT_EQ(max_diff(from_mat(rgba, "rgba", ChannelOrder::RGB).rgb, from_bgr.rgb), 0);
}

TEST(SupportedExtensions, CaseInsensitiveList) {
  for (const char* name : {"a.jpg", "a.JPEG", "b.png", "c.Bmp", "d.tif", "e.TIFF", "f.dcm", "g.DCM"})
    EXPECT_TRUE(is_supported_image_extension(name)) << name;
  for (const char* name : {"a.txt", "a.json", "noext", "a.jpg.bak", "a.gif", "a.webp"})
    EXPECT_FALSE(is_supported_image_extension(name)) << name;
}

// --- bad input: every failure is an ImageError naming the file and the problem --------

TEST(LoadImageErrors, MissingFile) {
  const auto file = test::temp_dir() / "nope.png";
  const std::string msg = error_of([&] { load_image(file); });
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("not found"), std::string::npos) << msg;
}

TEST(LoadImageErrors, Directory) {
  const auto dir = test::temp_dir() / "folder.png";
  fs::create_directories(dir);
  const std::string msg = error_of([&] { load_image(dir); });
  EXPECT_NE(msg.find(dir.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("directory"), std::string::npos) << msg;
}

TEST(LoadImageErrors, EmptyFile) {
  const auto file = test::temp_dir() / "empty.jpg";
  write_bytes(file, "");
  const std::string msg = error_of([&] { load_image(file); });
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
}

// libjpeg would silently return a grey-filled image for these.
TEST(LoadImageErrors, TruncatedJpeg) {
  const auto dir = test::temp_dir();
  const auto whole = dir / "whole.jpg";
  ASSERT_TRUE(cv::imwrite(whole.string(), pattern(400, 400, CV_8UC3)));
  const std::string bytes = read_bytes(whole);
  ASSERT_NO_THROW(load_image(whole));
  for (const double keep : {0.3, 0.9, 0.999}) {
    const auto cut = dir / "cut.jpg";
    write_bytes(cut, bytes.substr(0, static_cast<size_t>(bytes.size() * keep)));
    const std::string msg = error_of([&] { load_image(cut); });
    EXPECT_NE(msg.find(cut.string()), std::string::npos) << keep << ": " << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << keep << ": " << msg;
  }
}

// Some cameras append data after the end-of-image marker; that is not truncation.
TEST(LoadImage, JpegWithTrailerAfterTheImageLoads) {
  const auto dir = test::temp_dir();
  const auto whole = dir / "whole.jpg";
  const cv::Mat bgr = pattern(300, 300, CV_8UC3);
  ASSERT_TRUE(cv::imwrite(whole.string(), bgr));
  const auto trailer = dir / "trailer.jpg";
  // Trailer bytes that look like a start-of-scan marker with no end-of-image after it.
  write_bytes(trailer, read_bytes(whole) + std::string("\xFF\xDA\x00\x08trailer", 12));
  const LoadedImage img = load_image(trailer);
  EXPECT_LE(max_diff(img.rgb, bgr_to_rgb(bgr)), 12);
}

TEST(LoadImageErrors, TruncatedPng) {
  const auto dir = test::temp_dir();
  const auto whole = dir / "whole.png";
  ASSERT_TRUE(cv::imwrite(whole.string(), pattern(400, 400, CV_8UC3)));
  const std::string bytes = read_bytes(whole);
  const auto cut = dir / "cut.png";
  write_bytes(cut, bytes.substr(0, bytes.size() / 2));
  const std::string msg = error_of([&] { load_image(cut); });
  EXPECT_NE(msg.find(cut.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("corrupt"), std::string::npos) << msg;
}

TEST(LoadImageErrors, TextFileNamedPng) {
  const auto file = test::temp_dir() / "notes.png";
  write_bytes(file, "this is not an image, just some text\n");
  const std::string msg = error_of([&] { load_image(file); });
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a supported image"), std::string::npos) << msg;
}

TEST(LoadImageErrors, TinyImage) {
  const auto dir = test::temp_dir();
  for (const cv::Size size : {cv::Size(1, 1), cv::Size(31, 400)}) {
    const auto file = dir / ("tiny" + std::to_string(size.width) + ".png");
    ASSERT_TRUE(cv::imwrite(file.string(), cv::Mat(size, CV_8UC1, cv::Scalar(7))));
    const std::string msg = error_of([&] { load_image(file); });
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    const std::string dims = std::to_string(size.width) + "×" + std::to_string(size.height);
    EXPECT_NE(msg.find("too small (" + dims + ")"), std::string::npos) << msg;
    EXPECT_NE(msg.find("32×32"), std::string::npos) << msg;
  }
}

// ---- Hostile input (issue 17): refused before decoding, with the file and the limit named.

// A PNG whose header claims `width` x `height` (the pixel data is a small image's: the
// header check must refuse it before anything is decoded or allocated).
fs::path png_claiming(const fs::path& file, uint32_t width, uint32_t height) {
  std::vector<uchar> png;
  cv::imencode(".png", pattern(40, 40, CV_8UC1), png);
  for (int i = 0; i < 4; ++i) {
    png[16 + i] = static_cast<uchar>(width >> (24 - 8 * i));
    png[20 + i] = static_cast<uchar>(height >> (24 - 8 * i));
  }
  write_bytes(file, std::string(png.begin(), png.end()));
  return file;
}

TEST(LoadImageLimits, HugeImageIsRefusedFromItsHeader) {
  const auto file = png_claiming(test::temp_dir() / "huge.png", 32000, 32000);
  const std::string msg = error_of([&] { load_image(file); });
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("32000x32000"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--max-pixels"), std::string::npos) << msg;
}

TEST(LoadImageLimits, MaxPixelsCanBeChanged) {
  const auto file = test::temp_dir() / "small.png";
  ASSERT_TRUE(cv::imwrite(file.string(), pattern(100, 100, CV_8UC1)));
  const Limits saved = limits();
  limits().max_pixels = 5000;
  const std::string msg = error_of([&] { load_image(file); });
  limits() = saved;
  EXPECT_NE(msg.find("--max-pixels"), std::string::npos) << msg;
  EXPECT_NO_THROW(load_image(file));
}

TEST(LoadImageLimits, ExtremeAspectRatioIsRefused) {
  const auto file = test::temp_dir() / "strip.png";
  ASSERT_TRUE(cv::imwrite(file.string(), pattern(2000, 50, CV_8UC1)));
  const std::string msg = error_of([&] { load_image(file); });
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("aspect ratio"), std::string::npos) << msg;
}

TEST(LoadImageLimits, MultiPageTiffIsRefusedNotReadAsItsFirstPage) {
  const auto file = test::temp_dir() / "pages.tif";
  ASSERT_TRUE(cv::imwritemulti(file.string(), std::vector<cv::Mat>{pattern(40, 40, CV_8UC1),
                                                                  pattern(300, 300, CV_8UC1)}));
  const std::string msg = error_of([&] { load_image(file); });
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("multi-page TIFF (2 pages)"), std::string::npos) << msg;
  const auto single = test::temp_dir() / "single.tif";
  ASSERT_TRUE(cv::imwrite(single.string(), pattern(300, 300, CV_8UC1)));
  EXPECT_NO_THROW(load_image(single));
}

// libjpeg warns "premature end of data segment" and fills the rest with grey when a cut
// JPEG ends in a (fake) end-of-image marker; the marker walk alone would accept it.
TEST(LoadImageErrors, TruncatedJpegWithAFakeEndMarker) {
  const auto dir = test::temp_dir();
  const auto whole = dir / "whole.jpg";
  ASSERT_TRUE(cv::imwrite(whole.string(), pattern(400, 400, CV_8UC3)));
  const std::string bytes = read_bytes(whole);
  const auto cut = dir / "cut_eoi.jpg";
  write_bytes(cut, bytes.substr(0, bytes.size() / 2) + "\xFF\xD9");
  const std::string msg = error_of([&] { load_image(cut); });
  EXPECT_NE(msg.find(cut.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated or corrupt JPEG"), std::string::npos) << msg;
}

TEST(LoadImageLimits, FileSizeLimit) {
  const auto file = test::temp_dir() / "big.png";
  ASSERT_TRUE(cv::imwrite(file.string(), pattern(400, 400, CV_8UC3)));
  const Limits saved = limits();
  limits().max_file_bytes = 100;
  const std::string msg = error_of([&] { load_image(file); });
  limits() = saved;
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("--max-file-mb"), std::string::npos) << msg;
}

}  // namespace
}  // namespace cephtrace
