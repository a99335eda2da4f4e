// DICOM reading: files written here with DCMTK (full control over every attribute) and,
// when the DCMTK command-line tools are installed, files made the way users make them
// (img2dcm from a JPEG or BMP, then dcmodify to add the spacing).
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include <dcmtk/config/osconfig.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cephtrace/image_io.hpp"
#include "test_support.hpp"

namespace cephtrace {
namespace {

namespace fs = std::filesystem;

constexpr int kWidth = 320, kHeight = 300;

// 12-bit horizontal ramp: value = 100 + 10·x (100..3290).
uint16_t ramp_value(int x) { return static_cast<uint16_t>(100 + 10 * x); }

// Writes a 16-bit (12 bits stored) monochrome ramp; `extra` adds attributes.
fs::path write_dicom(const fs::path& file, const std::string& photometric,
                     const std::function<void(DcmDataset&)>& extra = {}) {
  std::vector<Uint16> pixels(kWidth * kHeight);
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x) pixels[y * kWidth + x] = ramp_value(x);
  DcmFileFormat ff;
  DcmDataset* ds = ff.getDataset();
  ds->putAndInsertString(DCM_SOPClassUID, UID_DigitalXRayImageStorageForPresentation);
  ds->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.2.1143.1");
  ds->putAndInsertString(DCM_Modality, "DX");
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds->putAndInsertString(DCM_PhotometricInterpretation, photometric.c_str());
  ds->putAndInsertUint16(DCM_Rows, kHeight);
  ds->putAndInsertUint16(DCM_Columns, kWidth);
  ds->putAndInsertUint16(DCM_BitsAllocated, 16);
  ds->putAndInsertUint16(DCM_BitsStored, 12);
  ds->putAndInsertUint16(DCM_HighBit, 11);
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  ds->putAndInsertUint16Array(DCM_PixelData, pixels.data(), pixels.size());
  if (extra) extra(*ds);
  const OFCondition saved = ff.saveFile(file.c_str(), EXS_LittleEndianExplicit);
  EXPECT_TRUE(saved.good()) << saved.text();
  return file;
}

uint8_t grey_at(const LoadedImage& img, int x) { return img.grey.at<uint8_t>(kHeight / 2, x); }

TEST(Dicom, SixteenBitMonochrome2UsesMinMaxAndPixelSpacing) {
  const auto file = write_dicom(test::temp_dir() / "ceph.dcm", "MONOCHROME2", [](DcmDataset& ds) {
    ds.putAndInsertString(DCM_PixelSpacing, "0.1\\0.1");
  });
  const LoadedImage img = load_image(file);
  ASSERT_EQ(img.grey.size(), cv::Size(kWidth, kHeight));
  ASSERT_EQ(img.rgb.type(), CV_8UC3);
  ASSERT_TRUE(img.pixel_spacing_mm.has_value());
  EXPECT_DOUBLE_EQ(*img.pixel_spacing_mm, 0.1);
  // No window in the file: the ramp's min..max fills 0..255.
  EXPECT_EQ(grey_at(img, 0), 0);
  EXPECT_EQ(grey_at(img, kWidth - 1), 255);
  EXPECT_NEAR(grey_at(img, kWidth / 2), 128, 2);
  EXPECT_EQ(img.rgb.at<cv::Vec3b>(10, 200)[0], img.grey.at<uint8_t>(10, 200));
}

TEST(Dicom, Monochrome1IsInvertedToLookLikeMonochrome2) {
  const auto dir = test::temp_dir();
  const LoadedImage m2 = load_image(write_dicom(dir / "m2.dcm", "MONOCHROME2"));
  const LoadedImage m1 = load_image(write_dicom(dir / "m1.dcm", "MONOCHROME1"));
  EXPECT_EQ(grey_at(m1, 0), 255);  // low values are bright in MONOCHROME1
  EXPECT_EQ(grey_at(m1, kWidth - 1), 0);
  cv::Mat sum;
  cv::add(m1.grey, m2.grey, sum, cv::noArray(), CV_32S);
  double lo, hi;
  cv::minMaxLoc(sum, &lo, &hi);
  EXPECT_GE(lo, 254);
  EXPECT_LE(hi, 256);
}

TEST(Dicom, VoiWindowIsApplied) {
  // Window over the ramp values 1100..2100 (x = 100..200).
  const auto file = write_dicom(test::temp_dir() / "win.dcm", "MONOCHROME2", [](DcmDataset& ds) {
    ds.putAndInsertString(DCM_WindowCenter, "1600");
    ds.putAndInsertString(DCM_WindowWidth, "1000");
  });
  const LoadedImage img = load_image(file);
  EXPECT_EQ(grey_at(img, 90), 0);    // below the window
  EXPECT_EQ(grey_at(img, 210), 255);  // above it
  EXPECT_NEAR(grey_at(img, 150), 128, 2);
  EXPECT_LT(grey_at(img, 120), grey_at(img, 180));
}

TEST(Dicom, ImagerPixelSpacingIsTheFallback) {
  const auto dir = test::temp_dir();
  const auto both = write_dicom(dir / "both.dcm", "MONOCHROME2", [](DcmDataset& ds) {
    ds.putAndInsertString(DCM_PixelSpacing, "0.139\\0.139");
    ds.putAndInsertString(DCM_ImagerPixelSpacing, "0.15\\0.15");
  });
  EXPECT_DOUBLE_EQ(load_image(both).pixel_spacing_mm.value_or(0), 0.139);
  const auto imager = write_dicom(dir / "imager.dcm", "MONOCHROME2", [](DcmDataset& ds) {
    ds.putAndInsertString(DCM_ImagerPixelSpacing, "0.15\\0.15");
  });
  EXPECT_DOUBLE_EQ(load_image(imager).pixel_spacing_mm.value_or(0), 0.15);
  EXPECT_FALSE(load_image(write_dicom(dir / "none.dcm", "MONOCHROME2")).pixel_spacing_mm);
}

TEST(Dicom, NonSquarePixelsUseTheMeanSpacingAndSaySo) {
  const auto file = write_dicom(test::temp_dir() / "aniso.dcm", "MONOCHROME2", [](DcmDataset& ds) {
    ds.putAndInsertString(DCM_PixelSpacing, "0.1\\0.2");
  });
  const LoadedImage img = load_image(file);
  EXPECT_DOUBLE_EQ(img.pixel_spacing_mm.value_or(0), 0.15);
  ASSERT_EQ(img.notes.size(), 1u);
  EXPECT_NE(img.notes[0].find("not square"), std::string::npos) << img.notes[0];
}

TEST(Dicom, DetectedByMagicWhateverTheExtension) {
  const auto dir = test::temp_dir();
  const auto dcm = write_dicom(dir / "a.dcm", "MONOCHROME2");
  const auto renamed = dir / "IMG0001";
  fs::copy_file(dcm, renamed);
  EXPECT_EQ(load_image(renamed).grey.size(), cv::Size(kWidth, kHeight));
}

TEST(Dicom, BrokenDicomIsAnImageError) {
  const auto dir = test::temp_dir();
  const auto good = write_dicom(dir / "good.dcm", "MONOCHROME2");
  std::ifstream in(good, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};

  const auto cut = dir / "cut.dcm";  // pixel data cut short
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto msg = [](const fs::path& f) {
    try {
      load_image(f);
    } catch (const ImageError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg(cut).find(cut.string()), std::string::npos) << msg(cut);

  const auto magic_only = dir / "magic.dcm";  // preamble + "DICM" and nothing else
  std::ofstream(magic_only, std::ios::binary) << std::string(128, '\0') << "DICM";
  EXPECT_NE(msg(magic_only).find(magic_only.string()), std::string::npos) << msg(magic_only);

  const auto text = dir / "text.dcm";
  std::ofstream(text) << "not a dicom file";
  EXPECT_NE(msg(text).find(text.string()), std::string::npos) << msg(text);
}

// --- made with the DCMTK tools, as a user would ---------------------------------------

bool have_tool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

TEST(DicomTools, Img2dcmJpegAndBmpWithDcmodifySpacing) {
  if (!have_tool("img2dcm") || !have_tool("dcmodify"))
    GTEST_SKIP() << "DCMTK tools img2dcm/dcmodify not installed; skipping tool-made DICOM test";
  const auto dir = test::temp_dir();
  // The committed Pillow fixture (an ISBI crop) as the image content, in grey.
  const cv::Mat src = cv::imread(
      (test::source_dir() / "tests" / "fixtures" / "images" / "pillow_src_rgb.png").string(),
      cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(src.empty());
  // JPEG input is stored encapsulated (JPEG baseline transfer syntax), so this also checks
  // that the JPEG decoder is registered; BMP input is stored uncompressed.
  for (const std::string ext : {".jpg", ".bmp"}) {
    const auto image = dir / ("src" + ext);
    const auto dcm = dir / ("made" + ext + ".dcm");
    ASSERT_TRUE(cv::imwrite(image.string(), src));
    const std::string input_format = ext == ".jpg" ? "JPEG" : "BMP";
    ASSERT_EQ(run("img2dcm -i " + input_format + " '" + image.string() + "' '" + dcm.string() + "'"), 0);
    ASSERT_EQ(run("dcmodify -nb -i \"(0028,0030)=0.1\\\\0.1\" '" + dcm.string() + "'"), 0);

    const LoadedImage img = load_image(dcm);
    ASSERT_EQ(img.grey.size(), src.size()) << ext;
    ASSERT_TRUE(img.pixel_spacing_mm.has_value()) << ext;
    EXPECT_DOUBLE_EQ(*img.pixel_spacing_mm, 0.1) << ext;
    // The content survives (up to JPEG loss and the min-max display range).
    const cv::Mat original = cv::imread(image.string(), cv::IMREAD_GRAYSCALE);
    cv::Mat stretched;
    cv::normalize(original, stretched, 0, 255, cv::NORM_MINMAX);
    cv::Mat diff;
    cv::absdiff(img.grey, stretched, diff);
    EXPECT_LT(cv::mean(diff)[0], 2.0) << ext;
  }
}

// img2dcm stores a colour JPEG as YBR_FULL_422 inside a JPEG transfer syntax.
TEST(DicomTools, Img2dcmColourJpegKeepsRgbOrder) {
  if (!have_tool("img2dcm")) GTEST_SKIP() << "DCMTK tool img2dcm not installed; skipping";
  const auto dir = test::temp_dir();
  cv::Mat bgr(300, 300, CV_8UC3, cv::Scalar(40, 90, 200));  // B, G, R: an orange-red
  const auto image = dir / "colour.jpg";
  const auto dcm = dir / "colour.dcm";
  ASSERT_TRUE(cv::imwrite(image.string(), bgr));
  ASSERT_EQ(run("img2dcm -i JPEG '" + image.string() + "' '" + dcm.string() + "'"), 0);
  const LoadedImage img = load_image(dcm);
  const cv::Scalar mean = cv::mean(img.rgb);
  EXPECT_NEAR(mean[0], 200, 4);  // R
  EXPECT_NEAR(mean[1], 90, 4);   // G
  EXPECT_NEAR(mean[2], 40, 4);   // B
  EXPECT_FALSE(img.pixel_spacing_mm.has_value());
}

// ---- Hostile input (issue 17).

std::string dicom_error(const fs::path& file) {
  try {
    load_image(file);
  } catch (const ImageError& e) {
    return e.what();
  }
  return "";
}

TEST(DicomErrors, HugeRowsAndColumnsAreRefusedBeforeAllocating) {
  const auto file = write_dicom(test::temp_dir() / "huge.dcm", "MONOCHROME2", [](DcmDataset& ds) {
    ds.putAndInsertUint16(DCM_Rows, 65535);
    ds.putAndInsertUint16(DCM_Columns, 65535);
  });
  const std::string msg = dicom_error(file);
  EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("--max-pixels"), std::string::npos) << msg;
}

TEST(DicomErrors, ColumnsOrBitsAllocatedThatDoNotDescribeThePixelsAreAnError) {
  const auto dir = test::temp_dir();
  const auto columns = write_dicom(dir / "columns.dcm", "MONOCHROME2",
                                   [](DcmDataset& ds) { ds.putAndInsertUint16(DCM_Columns, kWidth - 20); });
  const auto bits = write_dicom(dir / "bits.dcm", "MONOCHROME2", [](DcmDataset& ds) {
    ds.putAndInsertUint16(DCM_BitsAllocated, 8);
    ds.putAndInsertUint16(DCM_BitsStored, 8);
    ds.putAndInsertUint16(DCM_HighBit, 7);
  });
  for (const auto& file : {columns, bits}) {
    const std::string msg = dicom_error(file);
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("does not describe the pixels"), std::string::npos) << msg;
  }
}

TEST(DicomErrors, AbsurdPixelSpacingIsRefused) {
  for (const char* spacing : {"1e308\\1e308", "1e-300\\1e-300", "inf\\inf", "5\\5"}) {
    const auto file = write_dicom(test::temp_dir() / "spacing.dcm", "MONOCHROME2",
                                  [&](DcmDataset& ds) { ds.putAndInsertString(DCM_PixelSpacing, spacing); });
    const std::string msg = dicom_error(file);
    EXPECT_NE(msg.find(file.string()), std::string::npos) << spacing << ": " << msg;
    EXPECT_NE(msg.find("plausible range"), std::string::npos) << spacing << ": " << msg;
  }
}

}  // namespace
}  // namespace cephtrace
