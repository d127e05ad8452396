extension Substring {
    /// Trims spaces and tabs (no CharacterSet, which would pull in more of Foundation).
    public func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " || s.first == "\t" || s.first == "\n" || s.first == "\r" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" || s.last == "\n" || s.last == "\r" { s = s.dropLast() }
        return s
    }
}
