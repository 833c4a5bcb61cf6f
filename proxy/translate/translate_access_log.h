#pragma once

// access_log (on an HTTP connection manager or a TCP proxy) ->
// config::AccessLogConfig: Envoy's file, stdout and stderr loggers with
// log_format (text_format, text_format_source inline, json_format,
// omit_empty_values). Filters, formatter extensions and the deprecated
// format fields are errors naming their path; so is a file that cannot be
// opened (the push is refused and the last good configuration serves).

#include <string>
#include <vector>

#include "common/base/error_list.h"
#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "proxy/access_log/access_log_sink.h"
#include "proxy/config/snapshot.h"

namespace weft::translate {

bool translateAccessLogs(
    const google::protobuf::RepeatedPtrField<envoy::config::accesslog::v3::AccessLog>& logs,
    const std::string& path, access_log::AccessLogSinkFactory* sinks,
    std::vector<config::AccessLogConfig>* out, common::ErrorList& errors);

}  // namespace weft::translate
