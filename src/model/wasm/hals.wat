;; HALS / coordinate-descent passes over rows [start, end) of a factor F with the other factor G
;; fixed (see src/model/nmfWorker.ts for the objective; this is the same computation, operation
;; for operation, so the factors it writes are bit-identical to the plain-JS `sweepRows` there):
;;
;;   for each row f of F, with a = x G (x the row of X) and Q = G^T G:
;;     for each component t in order:
;;       f_t <- max(0, f_t - g_t / (Q_tt + l2)),   g = Q f - a + l1 + l2 f
;;
;; repeated up to `passes` times on the same a and Q while a pass decreases the row's objective by
;; more than `ratio` times the first pass's decrease (passes 1: one pass, no decrease computed).
;;
;; A row more than half nonzero forms each g_t as a dot product (k^2); a sparser row keeps g
;; current after each change (g_s += delta Q_ts, only for the components s > t still to come, and
;; Q f formed four rows of Q at a time), so entries that are and stay zero cost nothing; pairs of
;; such entries are skipped with one SIMD test. None of this changes an operation on a value that
;; is read, so the bits stay those of the JS loop. The updated entries are stored in float32; the
;; pass also returns the sum of the stored entries and sum_rows <f_new, a>, and writes the upper
;; triangle of these rows' F^T F into partialGram. sumChunkGrams then adds up the chunks'
;; triangles into the full Gram, in chunk order.
;;
;; Memory (imported as env.memory, SHARED: the trainer's worker threads sweep other rows of the
;; same factors at the same time; byte offsets):
;;   rowPointers    (rows + 1) int32; columnIndices, values: CSR of X (int32, float32)
;;   factors        rows x k float32 (rows [start, end) rewritten), other: columns x k float32
;;   otherGram      k x k float64 (Q, full); partialGram k x k float64 (written)
;;   scratch        5 k float64 (a, g, f, nonzero values, 1 / (Q_tt + l2)) then k int32, 16-byte
;;                  aligned, one per thread
;;   totals         2 float64 (written): sum of stored entries, sum of <f_new, a>
;;   products       0, or rows x k float64 holding each row's a (from rowProducts) to use
;;   cursors        rows int32, rowProducts' scratch
;;
;; rowProducts forms a for many rows first, reading G block by block (a few MB of G's rows at a
;; time, reused from cache by every row): at 360K scale that is 3x faster than one row at a time,
;; where nearly every cell's row of G misses the cache.
;;
;; Cost per row: nnz(x) k multiply-adds for a (axpy of G's rows, f64x2, four cells at a time so
;; that four rows of G are fetched together; the widening of G's entries is exact and each entry
;; gets its terms in cell order, so the lanes give the bits of the scalar loop) plus k^2 (dense
;; rows, f64x2 dot products with the four partial sums of the JS loop) or about 2 k x nonzeros
;; (sparse rows), plus nonzeros^2 / 2 for the Gram. At 360K scale (17.5M cells, k = 32) the
;; product is most of the time: about 1 CPU second per iteration in 4 MB blocks (0.6 ns per
;; multiply-add), against 3 one row at a time; the coordinate pass about 0.3.

(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; y[0 .. k) += scale * x[0 .. k), y float64, x float32. Two lanes at a time.
  (func $axpySingle (param $y i32) (param $x i32) (param $scale f64) (param $k i32)
    (local $end i32) (local $scales v128)
    (local.set $scales (f64x2.splat (local.get $scale)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $k) (i32.const -4))
                                                     (i32.const 2))))
    (block $quadsDone
      (loop $quads
        (br_if $quadsDone (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store (local.get $y)
          (f64x2.add (v128.load (local.get $y))
            (f64x2.mul (local.get $scales)
              (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))))))
        (v128.store offset=16 (local.get $y)
          (f64x2.add (v128.load offset=16 (local.get $y))
            (f64x2.mul (local.get $scales)
              (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $x))))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 32)))
        (br $quads)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $k) (i32.const 3))
                                                       (i32.const 2))))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (f64.store (local.get $y)
          (f64.add (f64.load (local.get $y))
            (f64.mul (local.get $scale) (f64.promote_f32 (f32.load (local.get $x))))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 8)))
        (br $tail))))

  ;; Four cells at once: y += s1 x1, then += s2 x2, += s3 x3, += s4 x4, per entry in that order
  ;; (so the same bits as four axpySingle calls). The four rows of G are fetched side by side:
  ;; at 360K scale they come from memory, and four misses in flight beat one.
  (func $axpySingle4 (param $y i32) (param $k i32)
    (param $x1 i32) (param $s1 f64) (param $x2 i32) (param $s2 f64)
    (param $x3 i32) (param $s3 f64) (param $x4 i32) (param $s4 f64)
    (local $t i32) (local $pairs i32) (local $at i32) (local $to i32)
    (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $v4 v128)
    (local.set $v1 (f64x2.splat (local.get $s1)))
    (local.set $v2 (f64x2.splat (local.get $s2)))
    (local.set $v3 (f64x2.splat (local.get $s3)))
    (local.set $v4 (f64x2.splat (local.get $s4)))
    (local.set $pairs (i32.and (local.get $k) (i32.const -2)))
    (block $pairsDone
      (loop $pairLoop
        (br_if $pairsDone (i32.ge_u (local.get $t) (local.get $pairs)))
        (local.set $at (i32.shl (local.get $t) (i32.const 2)))
        (local.set $to (i32.add (local.get $y) (i32.shl (local.get $t) (i32.const 3))))
        (v128.store (local.get $to)
          (f64x2.add
            (f64x2.add
              (f64x2.add
                (f64x2.add (v128.load (local.get $to))
                  (f64x2.mul (local.get $v1) (f64x2.promote_low_f32x4
                    (v128.load64_zero (i32.add (local.get $x1) (local.get $at))))))
                (f64x2.mul (local.get $v2) (f64x2.promote_low_f32x4
                  (v128.load64_zero (i32.add (local.get $x2) (local.get $at))))))
              (f64x2.mul (local.get $v3) (f64x2.promote_low_f32x4
                (v128.load64_zero (i32.add (local.get $x3) (local.get $at))))))
            (f64x2.mul (local.get $v4) (f64x2.promote_low_f32x4
              (v128.load64_zero (i32.add (local.get $x4) (local.get $at)))))))
        (local.set $t (i32.add (local.get $t) (i32.const 2)))
        (br $pairLoop)))
    ;; An odd k leaves one column.
    (if (i32.lt_u (local.get $t) (local.get $k))
      (then
        (local.set $at (i32.shl (local.get $t) (i32.const 2)))
        (local.set $to (i32.add (local.get $y) (i32.shl (local.get $t) (i32.const 3))))
        (f64.store (local.get $to)
          (f64.add
            (f64.add
              (f64.add
                (f64.add (f64.load (local.get $to))
                  (f64.mul (local.get $s1)
                    (f64.promote_f32 (f32.load (i32.add (local.get $x1) (local.get $at))))))
                (f64.mul (local.get $s2)
                  (f64.promote_f32 (f32.load (i32.add (local.get $x2) (local.get $at))))))
              (f64.mul (local.get $s3)
                (f64.promote_f32 (f32.load (i32.add (local.get $x3) (local.get $at))))))
            (f64.mul (local.get $s4)
              (f64.promote_f32 (f32.load (i32.add (local.get $x4) (local.get $at))))))))))

  ;; y[0 .. k) += scale * x[0 .. k), both float64. Two lanes at a time.
  (func $axpyDouble (param $y i32) (param $x i32) (param $scale f64) (param $k i32)
    (local $end i32) (local $scales v128)
    (local.set $scales (f64x2.splat (local.get $scale)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $k) (i32.const -4))
                                                     (i32.const 3))))
    (block $quadsDone
      (loop $quads
        (br_if $quadsDone (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store (local.get $y)
          (f64x2.add (v128.load (local.get $y))
                     (f64x2.mul (local.get $scales) (v128.load (local.get $x)))))
        (v128.store offset=16 (local.get $y)
          (f64x2.add (v128.load offset=16 (local.get $y))
                     (f64x2.mul (local.get $scales) (v128.load offset=16 (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 32)))
        (local.set $y (i32.add (local.get $y) (i32.const 32)))
        (br $quads)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $k) (i32.const 3))
                                                       (i32.const 3))))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (f64.store (local.get $y)
          (f64.add (f64.load (local.get $y)) (f64.mul (local.get $scale) (f64.load (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (local.set $y (i32.add (local.get $y) (i32.const 8)))
        (br $tail))))

  ;; y += s1 x1, then += s2 x2, += s3 x3, += s4 x4, per entry in that order (the bits of four
  ;; axpyDouble calls), all float64: y is loaded and stored once for the four.
  (func $axpyDouble4 (param $y i32) (param $k i32)
    (param $x1 i32) (param $s1 f64) (param $x2 i32) (param $s2 f64)
    (param $x3 i32) (param $s3 f64) (param $x4 i32) (param $s4 f64)
    (local $at i32) (local $end i32) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $v4 v128)
    (local.set $v1 (f64x2.splat (local.get $s1)))
    (local.set $v2 (f64x2.splat (local.get $s2)))
    (local.set $v3 (f64x2.splat (local.get $s3)))
    (local.set $v4 (f64x2.splat (local.get $s4)))
    (local.set $end (i32.shl (i32.and (local.get $k) (i32.const -2)) (i32.const 3)))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.ge_u (local.get $at) (local.get $end)))
        (v128.store (i32.add (local.get $y) (local.get $at))
          (f64x2.add
            (f64x2.add
              (f64x2.add
                (f64x2.add (v128.load (i32.add (local.get $y) (local.get $at)))
                  (f64x2.mul (local.get $v1) (v128.load (i32.add (local.get $x1) (local.get $at)))))
                (f64x2.mul (local.get $v2) (v128.load (i32.add (local.get $x2) (local.get $at)))))
              (f64x2.mul (local.get $v3) (v128.load (i32.add (local.get $x3) (local.get $at)))))
            (f64x2.mul (local.get $v4) (v128.load (i32.add (local.get $x4) (local.get $at))))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $pairs)))
    ;; An odd k leaves one entry.
    (if (i32.and (local.get $k) (i32.const 1))
      (then
        (f64.store (i32.add (local.get $y) (local.get $at))
          (f64.add
            (f64.add
              (f64.add
                (f64.add (f64.load (i32.add (local.get $y) (local.get $at)))
                  (f64.mul (local.get $s1) (f64.load (i32.add (local.get $x1) (local.get $at)))))
                (f64.mul (local.get $s2) (f64.load (i32.add (local.get $x2) (local.get $at)))))
              (f64.mul (local.get $s3) (f64.load (i32.add (local.get $x3) (local.get $at)))))
            (f64.mul (local.get $s4) (f64.load (i32.add (local.get $x4) (local.get $at)))))))))

  ;; x[0 .. k) . y[0 .. k), float64, with the four partial sums s0..s3 of the JS loop (columns
  ;; t mod 4, the tail into s0, then ((s0 + s1) + s2) + s3), so the result has the same bits.
  (func $dotDouble (param $x i32) (param $y i32) (param $k i32) (result f64)
    (local $end i32) (local $low v128) (local $high v128) (local $s0 f64)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $k) (i32.const -4))
                                                     (i32.const 3))))
    (local.set $low (v128.const i64x2 0 0))    ;; s0, s1
    (local.set $high (v128.const i64x2 0 0))   ;; s2, s3
    (block $quadsDone
      (loop $quads
        (br_if $quadsDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $low (f64x2.add (local.get $low)
          (f64x2.mul (v128.load (local.get $x)) (v128.load (local.get $y)))))
        (local.set $high (f64x2.add (local.get $high)
          (f64x2.mul (v128.load offset=16 (local.get $x)) (v128.load offset=16 (local.get $y)))))
        (local.set $x (i32.add (local.get $x) (i32.const 32)))
        (local.set $y (i32.add (local.get $y) (i32.const 32)))
        (br $quads)))
    (local.set $s0 (f64x2.extract_lane 0 (local.get $low)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $k) (i32.const 3))
                                                       (i32.const 3))))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $s0 (f64.add (local.get $s0)
          (f64.mul (f64.load (local.get $x)) (f64.load (local.get $y)))))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (local.set $y (i32.add (local.get $y) (i32.const 8)))
        (br $tail)))
    (f64.add
      (f64.add (f64.add (local.get $s0) (f64x2.extract_lane 1 (local.get $low)))
               (f64x2.extract_lane 0 (local.get $high)))
      (f64x2.extract_lane 1 (local.get $high))))

  ;; delta (g + 0.5 (Q_tt + l2) delta): how much the row's objective changes (exactly, as it is
  ;; quadratic) when component t moves by delta where its gradient is g; negative for a step of
  ;; coordinate descent, so that a pass's gain is minus the sum of these.
  (func $objectiveChange (param $g f64) (param $delta f64) (param $otherGram i32) (param $t i32)
    (param $k i32) (param $l2 f64) (result f64)
    (f64.mul (local.get $delta)
      (f64.add (local.get $g)
        (f64.mul
          (f64.mul (f64.const 0.5)
            (f64.add
              (f64.load (i32.add (local.get $otherGram)
                (i32.shl (i32.add (i32.mul (local.get $t) (local.get $k)) (local.get $t))
                         (i32.const 3))))
              (local.get $l2)))
          (local.get $delta)))))

  ;; gram[index[p], index[q]] += value[p] value[q] for p <= q < count (the upper triangle of
  ;; v v^T for v given by its nonzeros, index int32 increasing, value float64); rows of gram are
  ;; rowBytes apart.
  (func $addOuterProduct (param $gram i32) (param $index i32) (param $value i32) (param $count i32)
    (param $rowBytes i32)
    (local $p i32) (local $q i32) (local $scale f64) (local $row i32) (local $address i32)
    (block $outerDone
      (loop $outer
        (br_if $outerDone (i32.ge_u (local.get $p) (local.get $count)))
        (local.set $scale
          (f64.load (i32.add (local.get $value) (i32.shl (local.get $p) (i32.const 3)))))
        (local.set $row (i32.add (local.get $gram)
          (i32.mul (i32.load (i32.add (local.get $index) (i32.shl (local.get $p) (i32.const 2))))
                   (local.get $rowBytes))))
        (local.set $q (local.get $p))
        (block $innerDone
          (loop $inner
            (br_if $innerDone (i32.ge_u (local.get $q) (local.get $count)))
            (local.set $address (i32.add (local.get $row)
              (i32.shl
                (i32.load (i32.add (local.get $index) (i32.shl (local.get $q) (i32.const 2))))
                (i32.const 3))))
            (f64.store (local.get $address)
              (f64.add (f64.load (local.get $address))
                (f64.mul (local.get $scale)
                  (f64.load (i32.add (local.get $value) (i32.shl (local.get $q) (i32.const 3)))))))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $inner)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $outer))))

  ;; a = x G for rows [start, end) into products (rows x k float64, row r at r k), G's columns
  ;; taken block by block: for each block of blockColumns rows of G, every row adds the cells
  ;; that fall in it (cursors: rows int32, where each row resumes). A block of G (a few MB) then
  ;; stays in cache while thousands of rows use it, instead of each cell missing the cache. Cells
  ;; are still added in column order, so each row's a has the bits of the one-row loop.
  (func (export "rowProducts")
    (param $rowPointers i32) (param $columnIndices i32) (param $values i32) (param $other i32)
    (param $k i32) (param $start i32) (param $end i32) (param $blockColumns i32)
    (param $columns i32) (param $products i32) (param $cursors i32)
    (local $doubles i32) (local $floats i32) (local $r i32) (local $y i32) (local $p i32)
    (local $cellsEnd i32) (local $blockEnd i32) (local $address i32) (local $q i32)
    (local.set $doubles (i32.shl (local.get $k) (i32.const 3)))
    (local.set $floats (i32.shl (local.get $k) (i32.const 2)))
    (memory.fill (i32.add (local.get $products) (i32.mul (local.get $start) (local.get $doubles)))
                 (i32.const 0)
                 (i32.mul (i32.sub (local.get $end) (local.get $start)) (local.get $doubles)))
    (memory.copy (i32.add (local.get $cursors) (i32.shl (local.get $start) (i32.const 2)))
                 (i32.add (local.get $rowPointers) (i32.shl (local.get $start) (i32.const 2)))
                 (i32.shl (i32.sub (local.get $end) (local.get $start)) (i32.const 2)))

    (loop $blocks
      (local.set $blockEnd (i32.add (local.get $blockEnd) (local.get $blockColumns)))
      (local.set $r (local.get $start))
      (block $rowsDone
        (loop $rows
          (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $end)))
          (local.set $y (i32.add (local.get $products) (i32.mul (local.get $r) (local.get $doubles))))
          (local.set $p (i32.load (i32.add (local.get $cursors) (i32.shl (local.get $r) (i32.const 2)))))
          (local.set $cellsEnd (i32.load offset=4 (i32.add (local.get $rowPointers)
                                                           (i32.shl (local.get $r) (i32.const 2)))))

          ;; Four cells at a time while all four fall in the block ...
          (block $quadsDone
            (loop $cellQuads
              (br_if $quadsDone (i32.gt_s (i32.add (local.get $p) (i32.const 4))
                                          (local.get $cellsEnd)))
              (local.set $address (i32.add (local.get $columnIndices)
                                           (i32.shl (local.get $p) (i32.const 2))))
              (br_if $quadsDone (i32.ge_u (i32.load offset=12 (local.get $address))
                                          (local.get $blockEnd)))
              (local.set $q (i32.add (local.get $values) (i32.shl (local.get $p) (i32.const 2))))
              (call $axpySingle4 (local.get $y) (local.get $k)
                (i32.add (local.get $other) (i32.mul (i32.load (local.get $address))
                                                     (local.get $floats)))
                (f64.promote_f32 (f32.load (local.get $q)))
                (i32.add (local.get $other) (i32.mul (i32.load offset=4 (local.get $address))
                                                     (local.get $floats)))
                (f64.promote_f32 (f32.load offset=4 (local.get $q)))
                (i32.add (local.get $other) (i32.mul (i32.load offset=8 (local.get $address))
                                                     (local.get $floats)))
                (f64.promote_f32 (f32.load offset=8 (local.get $q)))
                (i32.add (local.get $other) (i32.mul (i32.load offset=12 (local.get $address))
                                                     (local.get $floats)))
                (f64.promote_f32 (f32.load offset=12 (local.get $q))))
              (local.set $p (i32.add (local.get $p) (i32.const 4)))
              (br $cellQuads)))

          ;; ... then one at a time up to the block's end.
          (block $cellsDone
            (loop $cells
              (br_if $cellsDone (i32.ge_u (local.get $p) (local.get $cellsEnd)))
              (local.set $address (i32.load (i32.add (local.get $columnIndices)
                                                     (i32.shl (local.get $p) (i32.const 2)))))
              (br_if $cellsDone (i32.ge_u (local.get $address) (local.get $blockEnd)))
              (call $axpySingle
                (local.get $y)
                (i32.add (local.get $other) (i32.mul (local.get $address) (local.get $floats)))
                (f64.promote_f32 (f32.load (i32.add (local.get $values)
                                                    (i32.shl (local.get $p) (i32.const 2)))))
                (local.get $k))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br $cells)))

          (i32.store (i32.add (local.get $cursors) (i32.shl (local.get $r) (i32.const 2)))
                     (local.get $p))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $rows)))
      (br_if $blocks (i32.lt_u (local.get $blockEnd) (local.get $columns)))))

  (func (export "sweepRows")
    (param $rowPointers i32) (param $columnIndices i32) (param $values i32)
    (param $factors i32) (param $other i32) (param $otherGram i32)
    (param $k i32) (param $start i32) (param $end i32) (param $l1 f64) (param $l2 f64)
    (param $partialGram i32) (param $scratch i32) (param $totals i32) (param $products i32)
    (param $passes i32) (param $ratio f64)
    (local $a i32)         ;; address of this row's a (in scratch, or in products)
    (local $product i32) (local $gradient i32) (local $row i32) (local $nonzeroValue i32)
    (local $inverseCurvature i32) (local $nonzeroIndex i32)
    (local $doubles i32)   ;; k x 8: bytes of a float64 row
    (local $floats i32)    ;; k x 4: bytes of a float32 row
    (local $r i32) (local $t i32) (local $p i32) (local $q i32) (local $cellsEnd i32)
    (local $base i32)      ;; address of factor row r
    (local $nonzeros i32) (local $stored i32) (local $gramRow i32) (local $address i32)
    (local $sum f64) (local $cross f64) (local $curvature f64) (local $step f64)
    (local $value f64) (local $next f64) (local $delta f64) (local $single f32)
    (local $g f64)         ;; the gradient entry of the component being updated
    (local $pass i32) (local $gain f64) (local $first f64)

    ;; Scratch layout.
    (local.set $doubles (i32.shl (local.get $k) (i32.const 3)))
    (local.set $floats (i32.shl (local.get $k) (i32.const 2)))
    (local.set $product (local.get $scratch))
    (local.set $gradient (i32.add (local.get $product) (local.get $doubles)))
    (local.set $row (i32.add (local.get $gradient) (local.get $doubles)))
    (local.set $nonzeroValue (i32.add (local.get $row) (local.get $doubles)))
    (local.set $inverseCurvature (i32.add (local.get $nonzeroValue) (local.get $doubles)))
    (local.set $nonzeroIndex (i32.add (local.get $inverseCurvature) (local.get $doubles)))
    (memory.fill (local.get $partialGram) (i32.const 0)
                 (i32.mul (local.get $k) (local.get $doubles)))

    ;; 1 / (Q_tt + l2) once per pass; 0 marks a component no row of G uses (its entries go to 0).
    (local.set $t (i32.const 0))
    (block $curvaturesDone
      (loop $curvatures
        (br_if $curvaturesDone (i32.ge_u (local.get $t) (local.get $k)))
        (local.set $curvature (f64.add (local.get $l2)
          (f64.load (i32.add (local.get $otherGram)
            (i32.shl (i32.add (i32.mul (local.get $t) (local.get $k)) (local.get $t))
                     (i32.const 3))))))
        (f64.store (i32.add (local.get $inverseCurvature) (i32.shl (local.get $t) (i32.const 3)))
          (select (f64.div (f64.const 1) (local.get $curvature)) (f64.const 0)
                  (f64.gt (local.get $curvature) (f64.const 0))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $curvatures)))

    (local.set $r (local.get $start))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $end)))
        (local.set $base (i32.add (local.get $factors)
          (i32.shl (i32.mul (local.get $r) (local.get $k)) (i32.const 2))))

        ;; a = x G: from rowProducts when given, else one axpy per stored cell of the row.
        (local.set $a (local.get $product))
        (if (local.get $products)
          (then
            (local.set $a (i32.add (local.get $products)
                                   (i32.mul (local.get $r) (local.get $doubles)))))
          (else
            (memory.fill (local.get $product) (i32.const 0) (local.get $doubles))
            (local.set $p (i32.load (i32.add (local.get $rowPointers)
                                             (i32.shl (local.get $r) (i32.const 2)))))
            (local.set $cellsEnd (i32.load offset=4 (i32.add (local.get $rowPointers)
                                                             (i32.shl (local.get $r) (i32.const 2)))))
            (block $quadsDone
              (loop $cellQuads
                (br_if $quadsDone (i32.gt_s (i32.add (local.get $p) (i32.const 4))
                                            (local.get $cellsEnd)))
                (local.set $address (i32.add (local.get $columnIndices)
                                             (i32.shl (local.get $p) (i32.const 2))))
                (local.set $q (i32.add (local.get $values) (i32.shl (local.get $p) (i32.const 2))))
                (call $axpySingle4 (local.get $product) (local.get $k)
                  (i32.add (local.get $other) (i32.mul (i32.load (local.get $address))
                                                       (local.get $floats)))
                  (f64.promote_f32 (f32.load (local.get $q)))
                  (i32.add (local.get $other) (i32.mul (i32.load offset=4 (local.get $address))
                                                       (local.get $floats)))
                  (f64.promote_f32 (f32.load offset=4 (local.get $q)))
                  (i32.add (local.get $other) (i32.mul (i32.load offset=8 (local.get $address))
                                                       (local.get $floats)))
                  (f64.promote_f32 (f32.load offset=8 (local.get $q)))
                  (i32.add (local.get $other) (i32.mul (i32.load offset=12 (local.get $address))
                                                       (local.get $floats)))
                  (f64.promote_f32 (f32.load offset=12 (local.get $q))))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $cellQuads)))
            (block $cellsDone
              (loop $cells
                (br_if $cellsDone (i32.ge_u (local.get $p) (local.get $cellsEnd)))
                (call $axpySingle
                  (local.get $product)
                  (i32.add (local.get $other)
                    (i32.shl (i32.mul (i32.load (i32.add (local.get $columnIndices)
                                                         (i32.shl (local.get $p) (i32.const 2))))
                                      (local.get $k))
                             (i32.const 2)))
                  (f64.promote_f32 (f32.load (i32.add (local.get $values)
                                                      (i32.shl (local.get $p) (i32.const 2)))))
                  (local.get $k))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $cells)))))

        ;; f in float64, two entries at a time, then an odd last one.
        (local.set $t (i32.const 0))
        (block $loadDone
          (loop $load
            (br_if $loadDone (i32.ge_u (i32.add (local.get $t) (i32.const 1)) (local.get $k)))
            (v128.store (i32.add (local.get $row) (i32.shl (local.get $t) (i32.const 3)))
              (f64x2.promote_low_f32x4 (v128.load64_zero
                (i32.add (local.get $base) (i32.shl (local.get $t) (i32.const 2))))))
            (local.set $t (i32.add (local.get $t) (i32.const 2)))
            (br $load)))
        (if (i32.lt_u (local.get $t) (local.get $k))
          (then
            (f64.store (i32.add (local.get $row) (i32.shl (local.get $t) (i32.const 3)))
              (f64.promote_f32
                (f32.load (i32.add (local.get $base) (i32.shl (local.get $t) (i32.const 2))))))))

        ;; Up to `passes` passes over the components; each adds its objective decrease to $gain,
        ;; and the row stops once a pass gains at most ratio x the first pass's gain.
        (local.set $pass (i32.const 0))
        (block $passesDone
          (loop $passLoop
            (local.set $gain (f64.const 0))
            ;; The nonzeros of f (pairs of zeros skipped): Q's row address and f_s of each.
            (local.set $t (i32.const 0))
            (local.set $stored (i32.const 0))
            (block $listDone
              (loop $list
                (br_if $listDone (i32.ge_u (local.get $t) (local.get $k)))
                (if (i32.lt_u (i32.add (local.get $t) (i32.const 1)) (local.get $k))
                  (then
                    (if (i32.eqz (v128.any_true (f64x2.ne
                          (v128.load (i32.add (local.get $row)
                                              (i32.shl (local.get $t) (i32.const 3))))
                          (v128.const f64x2 0 0))))
                      (then
                        (local.set $t (i32.add (local.get $t) (i32.const 2)))
                        (br $list)))))
                (local.set $value (f64.load (i32.add (local.get $row)
                                                     (i32.shl (local.get $t) (i32.const 3)))))
                (if (f64.ne (local.get $value) (f64.const 0))
                  (then
                    (i32.store (i32.add (local.get $nonzeroIndex)
                                        (i32.shl (local.get $stored) (i32.const 2)))
                               (i32.add (local.get $otherGram)
                                        (i32.mul (local.get $t) (local.get $doubles))))
                    (f64.store (i32.add (local.get $nonzeroValue)
                                        (i32.shl (local.get $stored) (i32.const 3)))
                               (local.get $value))
                    (local.set $stored (i32.add (local.get $stored) (i32.const 1)))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $list)))
            (local.set $nonzeros (local.get $stored))

            (if (i32.gt_u (i32.shl (local.get $nonzeros) (i32.const 1)) (local.get $k))
              (then
                ;; Dense row: g_t = Q_t . f - a_t + l1 + l2 f_t, afresh for each component.
                (local.set $t (i32.const 0))
                (block $denseDone
                  (loop $dense
                    (br_if $denseDone (i32.ge_u (local.get $t) (local.get $k)))
                    (local.set $address (i32.add (local.get $row)
                                                 (i32.shl (local.get $t) (i32.const 3))))
                    (local.set $step (f64.load (i32.add (local.get $inverseCurvature)
                                                        (i32.shl (local.get $t) (i32.const 3)))))
                    (if (f64.eq (local.get $step) (f64.const 0))
                      (then (f64.store (local.get $address) (f64.const 0)))
                      (else
                        (local.set $value (f64.load (local.get $address)))
                        (local.set $g
                          (f64.add
                            (f64.add
                              (f64.sub
                                (call $dotDouble
                                  (i32.add (local.get $otherGram)
                                           (i32.mul (local.get $t) (local.get $doubles)))
                                  (local.get $row) (local.get $k))
                                (f64.load (i32.add (local.get $a)
                                                   (i32.shl (local.get $t) (i32.const 3)))))
                              (local.get $l1))
                            (f64.mul (local.get $l2) (local.get $value))))
                        (local.set $next (f64.sub (local.get $value)
                                                  (f64.mul (local.get $g) (local.get $step))))
                        (local.set $next (select (local.get $next) (f64.const 0)
                                                 (f64.gt (local.get $next) (f64.const 0))))
                        (f64.store (local.get $address) (local.get $next))
                        (local.set $delta (f64.sub (local.get $next) (local.get $value)))
                        (if (i32.and (f64.ne (local.get $delta) (f64.const 0))
                                     (i32.gt_u (local.get $passes) (i32.const 1)))
                          (then (local.set $gain (f64.sub (local.get $gain)
                                  (call $objectiveChange (local.get $g) (local.get $delta)
                                    (local.get $otherGram) (local.get $t) (local.get $k)
                                    (local.get $l2))))))))
                    (local.set $t (i32.add (local.get $t) (i32.const 1)))
                    (br $dense))))
              (else
                ;; Sparse row: g = l1 - a + l2 f (two entries at a time, then an odd last one) ...
                (local.set $t (i32.const 0))
                (block $gradientDone
                  (loop $gradientInit
                    (br_if $gradientDone (i32.ge_u (i32.add (local.get $t) (i32.const 1))
                                                   (local.get $k)))
                    (local.set $address (i32.shl (local.get $t) (i32.const 3)))
                    (v128.store (i32.add (local.get $gradient) (local.get $address))
                      (f64x2.add
                        (f64x2.sub (f64x2.splat (local.get $l1))
                                   (v128.load (i32.add (local.get $a) (local.get $address))))
                        (f64x2.mul (f64x2.splat (local.get $l2))
                                   (v128.load (i32.add (local.get $row) (local.get $address))))))
                    (local.set $t (i32.add (local.get $t) (i32.const 2)))
                    (br $gradientInit)))
                (if (i32.lt_u (local.get $t) (local.get $k))
                  (then
                    (local.set $address (i32.shl (local.get $t) (i32.const 3)))
                    (f64.store (i32.add (local.get $gradient) (local.get $address))
                      (f64.add
                        (f64.sub (local.get $l1)
                                 (f64.load (i32.add (local.get $a) (local.get $address))))
                        (f64.mul (local.get $l2)
                                 (f64.load (i32.add (local.get $row) (local.get $address))))))))

                ;; ... plus Q_s f_s for each nonzero f_s, four rows of Q at a time, in order.
                (local.set $p (i32.const 0))
                (block $termsDone
                  (loop $terms
                    (br_if $termsDone (i32.ge_u (local.get $p) (local.get $stored)))
                    (local.set $q (i32.add (local.get $nonzeroIndex)
                                           (i32.shl (local.get $p) (i32.const 2))))
                    (local.set $address (i32.add (local.get $nonzeroValue)
                                                 (i32.shl (local.get $p) (i32.const 3))))
                    (if (i32.le_u (i32.add (local.get $p) (i32.const 4)) (local.get $stored))
                      (then
                        (call $axpyDouble4 (local.get $gradient) (local.get $k)
                          (i32.load (local.get $q)) (f64.load (local.get $address))
                          (i32.load offset=4 (local.get $q)) (f64.load offset=8 (local.get $address))
                          (i32.load offset=8 (local.get $q)) (f64.load offset=16 (local.get $address))
                          (i32.load offset=12 (local.get $q))
                          (f64.load offset=24 (local.get $address)))
                        (local.set $p (i32.add (local.get $p) (i32.const 4))))
                      (else
                        (call $axpyDouble (local.get $gradient) (i32.load (local.get $q))
                          (f64.load (local.get $address)) (local.get $k))
                        (local.set $p (i32.add (local.get $p) (i32.const 1)))))
                    (br $terms)))

                ;; ... then each component in turn, g kept current after each change. Two zero
                ;; entries whose gradients are >= 0 both stay zero (the step is clamped to 0),
                ;; and the first leaves the second's gradient alone: such pairs are skipped.
                (local.set $t (i32.const 0))
                (block $updatesDone
                  (loop $updates
                    (br_if $updatesDone (i32.ge_u (local.get $t) (local.get $k)))
                    (if (i32.lt_u (i32.add (local.get $t) (i32.const 1)) (local.get $k))
                      (then
                        (local.set $address (i32.shl (local.get $t) (i32.const 3)))
                        (if (i64x2.all_true (v128.and
                              (f64x2.eq (v128.load (i32.add (local.get $row) (local.get $address)))
                                        (v128.const f64x2 0 0))
                              (f64x2.ge (v128.load (i32.add (local.get $gradient)
                                                            (local.get $address)))
                                        (v128.const f64x2 0 0))))
                          (then
                            (local.set $t (i32.add (local.get $t) (i32.const 2)))
                            (br $updates)))))
                    (local.set $address (i32.shl (local.get $t) (i32.const 3)))
                    (local.set $step (f64.load (i32.add (local.get $inverseCurvature)
                                                        (local.get $address))))
                    (local.set $value (f64.load (i32.add (local.get $row) (local.get $address))))
                    (local.set $g (f64.load (i32.add (local.get $gradient) (local.get $address))))
                    (local.set $next
                      (select
                        (f64.sub (local.get $value) (f64.mul (local.get $g) (local.get $step)))
                        (f64.const 0)
                        (f64.gt (local.get $step) (f64.const 0))))
                    (local.set $next (select (f64.const 0) (local.get $next)
                                             (f64.lt (local.get $next) (f64.const 0))))
                    (local.set $delta (f64.sub (local.get $next) (local.get $value)))
                    (if (f64.ne (local.get $delta) (f64.const 0))
                      (then
                        (if (i32.and (f64.gt (local.get $step) (f64.const 0))
                                     (i32.gt_u (local.get $passes) (i32.const 1)))
                          (then (local.set $gain (f64.sub (local.get $gain)
                                  (call $objectiveChange (local.get $g) (local.get $delta)
                                    (local.get $otherGram) (local.get $t) (local.get $k)
                                    (local.get $l2))))))
                        (f64.store (i32.add (local.get $row) (local.get $address)) (local.get $next))
                        ;; Only the components still to come read g again in this pass: g_s for
                        ;; s > t gets += delta Q_ts (the bits of the full update there); g_t and
                        ;; those before it are left as they are, never read again.
                        (local.set $address (i32.add (local.get $address) (i32.const 8)))
                        (call $axpyDouble (i32.add (local.get $gradient) (local.get $address))
                          (i32.add (i32.add (local.get $otherGram)
                                            (i32.mul (local.get $t) (local.get $doubles)))
                                   (local.get $address))
                          (local.get $delta)
                          (i32.sub (i32.sub (local.get $k) (local.get $t)) (i32.const 1)))))
                    (local.set $t (i32.add (local.get $t) (i32.const 1)))
                    (br $updates)))))

            (local.set $pass (i32.add (local.get $pass) (i32.const 1)))
            (if (i32.eq (local.get $pass) (i32.const 1)) (then (local.set $first (local.get $gain))))
            (br_if $passesDone (i32.ge_u (local.get $pass) (local.get $passes)))
            (br_if $passLoop (f64.gt (local.get $gain)
                                     (f64.mul (local.get $ratio) (local.get $first))))))

        ;; Store in single precision; totals and the Gram use the stored values.
        (local.set $stored (i32.const 0))
        (local.set $t (i32.const 0))
        (block $storeDone
          (loop $store
            (br_if $storeDone (i32.ge_u (local.get $t) (local.get $k)))
            (local.set $single (f32.demote_f64
              (f64.load (i32.add (local.get $row) (i32.shl (local.get $t) (i32.const 3))))))
            (f32.store (i32.add (local.get $base) (i32.shl (local.get $t) (i32.const 2)))
                       (local.get $single))
            (local.set $value (f64.promote_f32 (local.get $single)))
            (if (f64.ne (local.get $value) (f64.const 0))
              (then
                (i32.store (i32.add (local.get $nonzeroIndex)
                                    (i32.shl (local.get $stored) (i32.const 2)))
                           (local.get $t))
                (f64.store (i32.add (local.get $nonzeroValue)
                                    (i32.shl (local.get $stored) (i32.const 3)))
                           (local.get $value))
                (local.set $stored (i32.add (local.get $stored) (i32.const 1)))
                (local.set $sum (f64.add (local.get $sum) (local.get $value)))
                (local.set $cross (f64.add (local.get $cross)
                  (f64.mul (local.get $value)
                    (f64.load (i32.add (local.get $a)
                                       (i32.shl (local.get $t) (i32.const 3)))))))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $store)))

        ;; Upper triangle of f f^T over the nonzeros, into partialGram.
        (call $addOuterProduct (local.get $partialGram) (local.get $nonzeroIndex)
                               (local.get $nonzeroValue) (local.get $stored) (local.get $doubles))

        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))

    (f64.store (local.get $totals) (local.get $sum))
    (f64.store offset=8 (local.get $totals) (local.get $cross)))

  ;; Rows [startRow, endRow) of the sum of `chunks` k x k float64 matrices stored one after the
  ;; other at chunkGrams, upper triangle only (j >= i), written to out and mirrored into its lower
  ;; triangle. Each entry is 0 + m_0 + m_1 + ... in chunk order, as a scalar loop would add them;
  ;; the rows are added chunk after chunk (each chunk's rows are read in a stream, the sums stay
  ;; in cache), two entries at a time, so the bits do not depend on how rows are split.
  (func (export "sumChunkGrams")
    (param $chunkGrams i32) (param $chunks i32) (param $k i32) (param $out i32)
    (param $startRow i32) (param $endRow i32)
    (local $i i32) (local $j i32) (local $c i32) (local $stride i32) (local $offset i32)
    (local $from i32) (local $to i32) (local $last i32)
    (local.set $stride (i32.shl (i32.mul (local.get $k) (local.get $k)) (i32.const 3)))

    ;; Zeros, then each chunk's rows added in.
    (local.set $i (local.get $startRow))
    (block $zerosDone
      (loop $zeros
        (br_if $zerosDone (i32.ge_u (local.get $i) (local.get $endRow)))
        (local.set $offset (i32.shl (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $i))
                                    (i32.const 3)))
        (memory.fill (i32.add (local.get $out) (local.get $offset)) (i32.const 0)
                     (i32.shl (i32.sub (local.get $k) (local.get $i)) (i32.const 3)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $zeros)))
    (block $chunksDone
      (loop $chunkLoop
        (br_if $chunksDone (i32.ge_u (local.get $c) (local.get $chunks)))
        (local.set $i (local.get $startRow))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $endRow)))
            (local.set $offset (i32.shl (i32.add (i32.mul (local.get $i) (local.get $k))
                                                 (local.get $i))
                                        (i32.const 3)))
            (local.set $to (i32.add (local.get $out) (local.get $offset)))
            (local.set $from (i32.add (i32.add (local.get $chunkGrams)
                                               (i32.mul (local.get $c) (local.get $stride)))
                                      (local.get $offset)))
            ;; Entries i .. k of row i: pairs, then an odd last one.
            (local.set $last (i32.add (local.get $to)
              (i32.shl (i32.and (i32.sub (local.get $k) (local.get $i)) (i32.const -2))
                       (i32.const 3))))
            (block $pairsDone
              (loop $pairs
                (br_if $pairsDone (i32.ge_u (local.get $to) (local.get $last)))
                (v128.store (local.get $to)
                  (f64x2.add (v128.load (local.get $to)) (v128.load (local.get $from))))
                (local.set $to (i32.add (local.get $to) (i32.const 16)))
                (local.set $from (i32.add (local.get $from) (i32.const 16)))
                (br $pairs)))
            (if (i32.and (i32.sub (local.get $k) (local.get $i)) (i32.const 1))
              (then (f64.store (local.get $to)
                      (f64.add (f64.load (local.get $to)) (f64.load (local.get $from))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $chunkLoop)))

    ;; The mirror below the diagonal (rows of other parts, entries no other part writes).
    (local.set $i (local.get $startRow))
    (block $mirrorDone
      (loop $mirror
        (br_if $mirrorDone (i32.ge_u (local.get $i) (local.get $endRow)))
        (local.set $j (i32.add (local.get $i) (i32.const 1)))
        (block $columnsDone
          (loop $columns
            (br_if $columnsDone (i32.ge_u (local.get $j) (local.get $k)))
            (f64.store (i32.add (local.get $out)
              (i32.shl (i32.add (i32.mul (local.get $j) (local.get $k)) (local.get $i)) (i32.const 3)))
              (f64.load (i32.add (local.get $out)
                (i32.shl (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $j))
                         (i32.const 3)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $columns)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $mirror)))))
