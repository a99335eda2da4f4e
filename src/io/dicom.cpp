// DICOM decoding with DCMTK: DicomImage (dcmimgle/dcmimage) renders the pixel data
// through the modality and VOI transforms, which is what a radiology viewer shows.
#include "io/dicom.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <sstream>

#include <dcmtk/config/osconfig.h>  // must come first in DCMTK code

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmimage/diregist.h>  // registers colour (RGB/YBR/palette) support
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <opencv2/imgproc.hpp>

#include "cephtrace/limits.hpp"

namespace cephtrace::detail {
namespace {

constexpr size_t kPreambleSize = 128;

[[noreturn]] void fail(const std::string& source, const std::string& problem) {
  throw ImageError(source + ": " + problem);
}

// Compressed transfer syntaxes (JPEG baseline/lossless, JPEG-LS, RLE) decode through
// codecs that must be registered once per process. DCMTK's own console logging is
// silenced: every failure reaches the caller as an ImageError carrying DCMTK's reason.
void init_dcmtk() {
  static std::once_flag once;
  std::call_once(once, [] {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

// Row spacing of Pixel Spacing (0028,0030), else Imager Pixel Spacing (0018,1164).
// Non-square pixels: the mean of row and column spacing (noted), since callers use a
// single mm-per-pixel scale.
std::optional<double> read_pixel_spacing(DcmDataset& ds, const std::string& source,
                                         std::vector<std::string>& notes) {
  for (const DcmTagKey& tag : {DCM_PixelSpacing, DCM_ImagerPixelSpacing}) {
    Float64 row = 0, col = 0;
    if (ds.findAndGetFloat64(tag, row, 0).bad()) continue;
    if (ds.findAndGetFloat64(tag, col, 1).bad()) col = row;
    const char* name = tag == DCM_PixelSpacing ? "PixelSpacing" : "ImagerPixelSpacing";
    // An absurd value (1e308, 1e-300, inf) would scale every measurement: refuse the file.
    try {
      check_pixel_spacing(row, source + ": DICOM " + name);
      check_pixel_spacing(col, source + ": DICOM " + name);
    } catch (const LimitError& e) {
      throw ImageError(e.what());
    }
    if (row == col) return row;
    std::ostringstream note;
    note << name << " is not square (row " << row << " mm, column " << col
         << " mm); using the mean " << (row + col) / 2 << " mm";
    notes.push_back(note.str());
    return (row + col) / 2;
  }
  return std::nullopt;
}

// Rows and Columns against the limits before DCMTK allocates for them, and, for native
// (uncompressed) pixel data, its length against what Rows, Columns, BitsAllocated,
// SamplesPerPixel and NumberOfFrames say: a mismatch would be rendered as a sheared image.
void check_pixel_layout(DcmDataset& ds, const std::string& source) {
  Uint16 rows = 0, columns = 0, bits = 0, samples = 1;
  if (ds.findAndGetUint16(DCM_Rows, rows).bad() || ds.findAndGetUint16(DCM_Columns, columns).bad())
    fail(source, "DICOM file lacks Rows or Columns");
  try {
    check_image_size(columns, rows, source);
  } catch (const LimitError& e) {
    throw ImageError(e.what());
  }
  if (DcmXfer(ds.getOriginalXfer()).isEncapsulated()) return;  // compressed: the codec checks
  ds.findAndGetUint16(DCM_BitsAllocated, bits);
  ds.findAndGetUint16(DCM_SamplesPerPixel, samples);
  Sint32 frames = 1;
  if (ds.findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
  DcmElement* pixel_data = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, pixel_data).bad() || !pixel_data) return;
  const uint64_t have = pixel_data->getLength();
  const uint64_t bits_total = uint64_t{rows} * columns * std::max<Uint16>(samples, 1) * bits * frames;
  const uint64_t need = (bits_total + 7) / 8;
  if (bits == 0 || (have != need && have != need + 1))  // +1: the pad to an even length
    fail(source, "DICOM pixel data has " + std::to_string(have) + " bytes but Rows " +
                     std::to_string(rows) + " x Columns " + std::to_string(columns) + " x " +
                     std::to_string(samples) + " samples x " + std::to_string(bits) +
                     " BitsAllocated x " + std::to_string(frames) + " frames needs " +
                     std::to_string(need) + "; the header does not describe the pixels");
}

}  // namespace

bool has_dicom_magic(std::span<const uint8_t> bytes) {
  return bytes.size() >= kPreambleSize + 4 &&
         std::memcmp(bytes.data() + kPreambleSize, "DICM", 4) == 0;
}

LoadedImage decode_dicom(std::span<const uint8_t> bytes, const std::string& source) {
  init_dcmtk();

  DcmInputBufferStream stream;
  stream.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  stream.setEos();
  DcmFileFormat file;
  file.transferInit();
  const OFCondition read = file.read(stream);
  file.transferEnd();
  if (read.bad()) fail(source, std::string("not a readable DICOM file (") + read.text() + ")");

  DcmDataset* ds = file.getDataset();
  if (!ds || !ds->tagExists(DCM_PixelData))
    fail(source, "DICOM file has no pixel data (not an image)");

  check_pixel_layout(*ds, source);
  // Only the first frame of a multi-frame object is used.
  DicomImage image(&file, EXS_Unknown, CIF_MayDetachPixelData, 0, 1);
  if (image.getStatus() != EIS_Normal)
    fail(source, std::string("cannot decode DICOM pixel data (") +
                     DicomImage::getString(image.getStatus()) + ")");

  const int width = static_cast<int>(image.getWidth());
  const int height = static_cast<int>(image.getHeight());

  LoadedImage out;
  out.source = source;
  if (image.isMonochrome()) {
    // DCMTK already renders MONOCHROME1 inverted (low values bright), so the output
    // looks like MONOCHROME2 without an extra step.
    if (image.getWindowCount() > 0)
      image.setWindow(0);
    else if (image.getVoiLutCount() > 0)
      image.setVoiLut(0);
    else
      image.setMinMaxWindow();
  }
  const void* pixels = image.getOutputData(8, 0, 0);  // 8 bits, first frame, interleaved
  if (!pixels) fail(source, "cannot render DICOM pixel data to 8 bits");

  if (image.isMonochrome()) {
    out.grey = cv::Mat(height, width, CV_8UC1, const_cast<void*>(pixels)).clone();
    cv::cvtColor(out.grey, out.rgb, cv::COLOR_GRAY2RGB);
    out.rgb_is_grey = true;
  } else {
    out.rgb = cv::Mat(height, width, CV_8UC3, const_cast<void*>(pixels)).clone();
    cv::cvtColor(out.rgb, out.grey, cv::COLOR_RGB2GRAY);
  }
  out.pixel_spacing_mm = read_pixel_spacing(*ds, source, out.notes);
  return out;
}

}  // namespace cephtrace::detail
