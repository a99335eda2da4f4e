#include "io/image_header.hpp"

#include <csetjmp>
#include <cstdio>
#include <set>

#include <jpeglib.h>
#include <jerror.h>  // the JWRN_* message codes

namespace cephtrace::detail {
namespace {

uint32_t be16(std::span<const uint8_t> b, size_t i) { return (uint32_t{b[i]} << 8) | b[i + 1]; }
uint32_t be32(std::span<const uint8_t> b, size_t i) { return (be16(b, i) << 16) | be16(b, i + 2); }
uint32_t le16(std::span<const uint8_t> b, size_t i) { return (uint32_t{b[i + 1]} << 8) | b[i]; }
uint32_t le32(std::span<const uint8_t> b, size_t i) { return (le16(b, i + 2) << 16) | le16(b, i); }

std::optional<ImageHeader> png_header(std::span<const uint8_t> b) {
  static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (b.size() < 24 || !std::equal(kSignature, kSignature + 8, b.begin())) return std::nullopt;
  return ImageHeader{"PNG", be32(b, 16), be32(b, 20)};
}

std::optional<ImageHeader> jpeg_header(std::span<const uint8_t> b) {
  if (b.size() < 4 || b[0] != 0xFF || b[1] != 0xD8) return std::nullopt;
  for (size_t i = 2; i + 3 < b.size();) {
    if (b[i] != 0xFF) return std::nullopt;
    const uint8_t marker = b[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) are not frames.
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (i + 8 >= b.size()) return std::nullopt;
      return ImageHeader{"JPEG", be16(b, i + 7), be16(b, i + 5)};
    }
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // no frame header before the scan
    i += 2 + be16(b, i + 2);
  }
  return std::nullopt;
}

std::optional<ImageHeader> bmp_header(std::span<const uint8_t> b) {
  if (b.size() < 26 || b[0] != 'B' || b[1] != 'M') return std::nullopt;
  if (le32(b, 14) == 12)  // OS/2 BITMAPCOREHEADER: 16-bit sizes
    return ImageHeader{"BMP", le16(b, 18), le16(b, 20)};
  const int64_t height = static_cast<int32_t>(le32(b, 22));  // negative: stored top-down
  return ImageHeader{"BMP", static_cast<int32_t>(le32(b, 18)), height < 0 ? -height : height};
}

std::optional<ImageHeader> tiff_header(std::span<const uint8_t> b) {
  if (b.size() < 8) return std::nullopt;
  const bool little = b[0] == 'I' && b[1] == 'I' && b[2] == 42 && b[3] == 0;
  const bool big = b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 42;
  if (!little && !big) return std::nullopt;
  auto u16 = [&](size_t i) { return little ? le16(b, i) : be16(b, i); };
  auto u32 = [&](size_t i) { return little ? le32(b, i) : be32(b, i); };
  ImageHeader h{"TIFF", 0, 0, 0};
  std::set<uint32_t> seen;  // an IFD chain that loops back is counted once
  for (uint32_t ifd = u32(4); ifd != 0 && h.pages < 1000 && seen.insert(ifd).second;) {
    if (size_t{ifd} + 2 > b.size()) break;
    const uint32_t entries = u16(ifd);
    const size_t end = size_t{ifd} + 2 + size_t{entries} * 12;
    if (end + 4 > b.size()) break;
    if (h.pages == 0)
      for (uint32_t e = 0; e < entries; ++e) {
        const size_t at = size_t{ifd} + 2 + e * 12;
        const uint32_t tag = u16(at), type = u16(at + 2);
        const uint32_t value = type == 3 ? u16(at + 8) : u32(at + 8);  // SHORT or LONG
        if (tag == 256) h.width = value;
        if (tag == 257) h.height = value;
      }
    ++h.pages;
    ifd = u32(end);
  }
  if (h.pages == 0) return std::nullopt;
  return h;
}

struct JpegErrors {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  std::string warning;
};

}  // namespace

std::optional<ImageHeader> read_image_header(std::span<const uint8_t> bytes) {
  for (auto reader : {png_header, jpeg_header, bmp_header, tiff_header})
    if (auto h = reader(bytes)) return h;
  return std::nullopt;
}

std::optional<std::string> jpeg_corruption(std::span<const uint8_t> bytes) {
  jpeg_decompress_struct cinfo;
  JpegErrors errors;
  cinfo.err = jpeg_std_error(&errors.mgr);
  errors.mgr.error_exit = [](j_common_ptr c) {
    auto* e = reinterpret_cast<JpegErrors*>(c->err);
    char text[JMSG_LENGTH_MAX];
    c->err->format_message(c, text);
    e->warning = text;
    std::longjmp(e->jump, 1);
  };
  errors.mgr.emit_message = [](j_common_ptr c, int level) {
    auto* e = reinterpret_cast<JpegErrors*>(c->err);
    const int code = c->err->msg_code;
    if (level < 0 && e->warning.empty() && (code == JWRN_HIT_MARKER || code == JWRN_JPEG_EOF)) {
      char text[JMSG_LENGTH_MAX];
      c->err->format_message(c, text);
      e->warning = text;
    }
  };
  jpeg_create_decompress(&cinfo);
  if (setjmp(errors.jump)) {  // a fatal error: OpenCV's decode reports it too
    jpeg_destroy_decompress(&cinfo);
    return errors.warning;
  }
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.scale_num = 1;
  cinfo.scale_denom = 8;  // every coefficient is still entropy-decoded
  cinfo.dct_method = JDCT_IFAST;
  jpeg_start_decompress(&cinfo);
  // libjpeg's own pool: freed by jpeg_destroy_decompress even after a longjmp.
  JSAMPARRAY rows = (*cinfo.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&cinfo), JPOOL_IMAGE,
                                               cinfo.output_width * cinfo.output_components, 1);
  while (cinfo.output_scanline < cinfo.output_height && errors.warning.empty())
    jpeg_read_scanlines(&cinfo, rows, 1);
  if (errors.warning.empty()) jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  if (errors.warning.empty()) return std::nullopt;
  return errors.warning;
}

}  // namespace cephtrace::detail
