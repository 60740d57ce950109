// Eigen-decomposition of a real symmetric 3×3 matrix (cyclic Jacobi rotations).

/// Eigenvalues and unit eigenvectors of a symmetric 3×3 matrix, sorted by decreasing eigenvalue.
///
/// Cyclic Jacobi method (Golub & Van Loan, *Matrix Computations*, 4th ed., §8.5.2): each rotation
/// zeroes one off-diagonal element; sweeps repeat until the off-diagonal norm is below
/// `1e-15 ×` the Frobenius norm (quadratic convergence: 4–6 sweeps). The eigenvectors are the
/// columns of the accumulated rotation, orthonormal to rounding. Signs of eigenvectors are
/// arbitrary (callers fix them by convention).
/// - Complexity: O(1) (at most 50 sweeps of 3 rotations), no allocation.
struct SymmetricEigen3: Sendable, Equatable {
    /// λ1 ≥ λ2 ≥ λ3.
    var values: (Double, Double, Double)
    /// Unit eigenvectors, `vectors[k]` belongs to the k-th value.
    var vectors: [SIMD3<Double>]

    static func == (l: SymmetricEigen3, r: SymmetricEigen3) -> Bool {
        l.values == r.values && l.vectors == r.vectors
    }

    /// `m` is row-major `[[a00,a01,a02],[a10,a11,a12],[a20,a21,a22]]`, assumed symmetric.
    init(_ m: [[Double]]) {
        var a = m
        var v: [[Double]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        var frob = 0.0
        for i in 0..<3 { for j in 0..<3 { frob += a[i][j] * a[i][j] } }
        let tolerance = 1e-30 * max(frob, .leastNormalMagnitude)
        for _ in 0..<50 {
            let off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2]
            if off <= tolerance { break }
            for (p, q) in [(0, 1), (0, 2), (1, 2)] where a[p][q] != 0 {
                // Rotation angle that annihilates a[p][q] (Golub & Van Loan Alg. 8.5.1, sym.schur2).
                let tau = (a[q][q] - a[p][p]) / (2 * a[p][q])
                let t = (tau >= 0 ? 1.0 : -1.0) / (abs(tau) + (1 + tau * tau).squareRoot())
                let c = 1 / (1 + t * t).squareRoot()
                let s = t * c
                for k in 0..<3 {  // A ← A J (columns p, q)
                    let akp = a[k][p], akq = a[k][q]
                    a[k][p] = c * akp - s * akq
                    a[k][q] = s * akp + c * akq
                }
                for k in 0..<3 {  // A ← Jᵀ A (rows p, q)
                    let apk = a[p][k], aqk = a[q][k]
                    a[p][k] = c * apk - s * aqk
                    a[q][k] = s * apk + c * aqk
                }
                for k in 0..<3 {  // V ← V J
                    let vkp = v[k][p], vkq = v[k][q]
                    v[k][p] = c * vkp - s * vkq
                    v[k][q] = s * vkp + c * vkq
                }
            }
        }
        var order = [0, 1, 2]
        order.sort { a[$0][$0] > a[$1][$1] || (a[$0][$0] == a[$1][$1] && $0 < $1) }
        values = (a[order[0]][order[0]], a[order[1]][order[1]], a[order[2]][order[2]])
        vectors = order.map { SIMD3(v[0][$0], v[1][$0], v[2][$0]) }
    }
}
