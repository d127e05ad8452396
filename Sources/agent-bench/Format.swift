#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension String {
    /// printf-style formatting through vsnprintf: the benchmark's figures without full Foundation
    /// (whose `String(format:)` would bring ICU into the build). Integers take `%ld`.
    init(format: String, _ args: CVarArg...) {
        var buffer = [CChar](repeating: 0, count: 512)
        let n = withVaList(args) { vsnprintf(&buffer, buffer.count, format, $0) }
        self = String(decoding: buffer.prefix(Swift.max(0, Swift.min(Int(n), buffer.count - 1))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
