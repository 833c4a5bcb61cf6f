#include "common/http/codec.h"

namespace weft::http {

const char* resetReasonName(StreamResetReason reason) {
  switch (reason) {
    case StreamResetReason::kConnectionFailure:
      return "connection failure";
    case StreamResetReason::kConnectionTermination:
      return "connection termination";
    case StreamResetReason::kLocalReset:
      return "local reset";
    case StreamResetReason::kRemoteReset:
      return "remote reset";
    case StreamResetReason::kProtocolError:
      return "protocol error";
  }
  return "unknown";
}

}  // namespace weft::http
