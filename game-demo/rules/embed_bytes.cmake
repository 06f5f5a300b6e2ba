# Writes a binary file into a C++ source file as a byte array, so a program carries it with no
# file to find at run time.
#   cmake -DINPUT=a.bfbs -DOUTPUT=a.cpp -DFUNCTION=ns::name -P embed_bytes.cmake
# defines `std::span<const std::byte> FUNCTION()`.
file(READ ${INPUT} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "std::byte{0x\\1}," bytes "${hex}")
string(REGEX REPLACE "::[^:]+$" "" namespace "${FUNCTION}")
string(REGEX REPLACE "^.*::" "" name "${FUNCTION}")
file(WRITE ${OUTPUT}.tmp
     "// Generated from ${INPUT} by embed_bytes.cmake. Do not edit.\n"
     "#include <cstddef>\n#include <span>\n\n"
     "namespace ${namespace} {\n\n"
     "std::span<const std::byte> ${name}() {\n"
     "  alignas(8) static constexpr std::byte kBytes[] = {${bytes}};\n"
     "  return kBytes;\n"
     "}\n\n"
     "}  // namespace ${namespace}\n")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
