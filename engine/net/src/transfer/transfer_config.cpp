// FileTransferConfig::validate and the names and texts of transfer errors.

#include <cstdio>
#include <string>

#include "tickwire/net/file_transfer.hpp"
#include "transfer/transfer_codec.hpp"

namespace tickwire::net {

std::string to_string(TransferId id) {
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(id.hi),
                static_cast<unsigned long long>(id.lo));
  return text;
}

std::string_view to_string(TransferError error) {
  switch (error) {
    case TransferError::none:
      return "none";
    case TransferError::cancelled:
      return "cancelled";
    case TransferError::too_large:
      return "too_large";
    case TransferError::kind_not_allowed:
      return "kind_not_allowed";
    case TransferError::not_authenticated:
      return "not_authenticated";
    case TransferError::uploads_disabled:
      return "uploads_disabled";
    case TransferError::too_many_transfers:
      return "too_many_transfers";
    case TransferError::bad_name:
      return "bad_name";
    case TransferError::corrupt_chunk:
      return "corrupt_chunk";
    case TransferError::offset_out_of_range:
      return "offset_out_of_range";
    case TransferError::hash_mismatch:
      return "hash_mismatch";
    case TransferError::protocol_error:
      return "protocol_error";
    case TransferError::io_error:
      return "io_error";
    case TransferError::unknown_transfer:
      return "unknown_transfer";
    case TransferError::connection_lost:
      return "connection_lost";
  }
  return "unknown";
}

std::string_view describe(TransferError error) {
  switch (error) {
    case TransferError::none:
      return "no error";
    case TransferError::cancelled:
      return "the transfer was cancelled by one side";
    case TransferError::too_large:
      return "the file is larger than the receiver accepts (receive.max_file_size)";
    case TransferError::kind_not_allowed:
      return "the receiver does not accept this kind of file (receive.allowed_kinds)";
    case TransferError::not_authenticated:
      return "the receiver accepts files only from players admitted with a join ticket";
    case TransferError::uploads_disabled:
      return "the receiver accepts no files";
    case TransferError::too_many_transfers:
      return "too many transfers with this peer at once (max_transfers_per_peer): wait for one "
             "to finish";
    case TransferError::bad_name:
      return "the file name is empty, too long, or not a plain name (no '/', not '.' or '..')";
    case TransferError::corrupt_chunk:
      return "a chunk arrived damaged (its check or size was wrong): send the file again";
    case TransferError::offset_out_of_range:
      return "a chunk or acknowledgement named an offset past the end of the file or out of order";
    case TransferError::hash_mismatch:
      return "the received file's SHA-256 differs from the one announced: it was discarded";
    case TransferError::protocol_error:
      return "the peer sent a message that makes no sense now";
    case TransferError::io_error:
      return "the file could not be read or written (missing, permissions, disk full), or the "
             "file being sent changed before it was all sent";
    case TransferError::unknown_transfer:
      return "no transfer with this id on this side";
    case TransferError::connection_lost:
      return "the peer disconnected and the transfer was not resumed within resume_timeout_ms";
  }
  return "unknown error";
}

Status FileTransferConfig::validate() const {
  auto bad = [](const std::string& field, const std::string& value, const char* want) {
    return Status::error("FileTransferConfig." + field + " = " + value + ": " + want);
  };
  if (chunk_size < transfer_detail::kMinChunkSize || chunk_size > transfer_detail::kMaxChunkSize) {
    return bad("chunk_size", std::to_string(chunk_size), "must be 1024..1048576 bytes");
  }
  if (paced_chunk_size < transfer_detail::kMinChunkSize || paced_chunk_size > chunk_size) {
    return bad("paced_chunk_size", std::to_string(paced_chunk_size),
               "must be 1024 bytes..chunk_size");
  }
  if (window_chunks < 1 || window_chunks > 1024) {
    return bad("window_chunks", std::to_string(window_chunks), "must be 1..1024");
  }
  if (max_bytes_per_second != 0 && max_bytes_per_second < chunk_size) {
    return bad("max_bytes_per_second", std::to_string(max_bytes_per_second),
               "must be 0 (no cap) or at least chunk_size");
  }
  if (max_transfers_per_peer < 1 || max_transfers_per_peer > 64) {
    return bad("max_transfers_per_peer", std::to_string(max_transfers_per_peer), "must be 1..64");
  }
  if (resume_timeout_ms > 3'600'000) {
    return bad("resume_timeout_ms", std::to_string(resume_timeout_ms), "must be 0..3600000");
  }
  if (!receive_directory.empty() && !std::filesystem::is_directory(receive_directory)) {
    return bad("receive_directory", receive_directory.string(), "must be an existing directory");
  }
  for (const std::string& kind : receive.allowed_kinds) {
    if (kind.empty() || kind.size() > transfer_detail::kMaxKindBytes) {
      return bad("receive.allowed_kinds", "\"" + kind + "\"", "each kind must be 1..64 bytes");
    }
  }
  return {};
}

}  // namespace tickwire::net
