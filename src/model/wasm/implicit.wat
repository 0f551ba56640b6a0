;; The implicit trainer's two heavy steps (src/model/implicitNmf.ts states the objective and the
;; update rule), each the same computation as its plain-JS reference, operation for operation,
;; so that the factors are bit-identical:
;;
;;   solveRows  rows [start, end) of one half-step: `RowSolver.updateRows` of implicitNmf.ts
;;              (tolerance 0). Per row: gather the played rows of the other factor (transposed)
;;              and their predictions, form (G f), then `sweeps` cyclic coordinate sweeps
;;                f_j <- max(0, f_j - g_j / c_j),
;;                g_j = (G f)_j + l2 f_j + sum_i y_ij (w_i e_i - (1 + w_i)),
;;                c_j = G_jj + l2 + sum_i w_i y_ij^2,
;;              keeping G f and the predictions e current after each move.
;;   gramRows   rows [from, to) of the upper triangle of F^T F: `gramRows` of implicitWorker.ts.
;;
;; Where the lanes go (f64x2, two at a time; each lane performs the scalar loop's operations on
;; its own entry in the same order, and there is no fused multiply-add, so the bits agree):
;;   - the axpys g += change G_j (over components) and e += change y_j (over played rows);
;;   - G f, formed as a sum over s of f_s G_s (G's row s): entry t then receives G_ts f_s in the
;;     order s = 0, 1, ..., as the dot product of the JS loop does, because G is exactly
;;     symmetric (its lower triangle is a copy of the upper). Terms with f_s = 0 add +0 to a sum
;;     that is never -0, so they are skipped;
;;   - the Gram's row t: out_ts += f_t f_s over s >= t, for each factor row in row order.
;; The reductions over played rows (the gradient, the curvature, the predictions) stay scalar and
;; in order. The curvature c_j does not change during a row's sweeps, so it is summed once a row
;; with the operations of the JS loop, which sums it again every sweep to the same value.
;;
;; Memory (imported as env.memory, SHARED with the trainer's worker; byte offsets):
;;   rowPointers (rows + 1) int32, columnIndices, values: CSR of X or X^T (int32, float32)
;;   factors rows x k float32 (rows [start, end) rewritten), other: columns x k float32
;;   otherGram k x k float64, full and exactly symmetric
;;   scratch (one per thread) float64: played k x maxEntries, then w, 1 + w and e (maxEntries
;;           each), then G f, f and c (k each)
;;
;; Cost per row: entries x k for the gather, k x nonzeros(f) for G f, k x entries for c, and per
;; sweep k x entries (scalar) plus (k + entries) per moved coordinate (f64x2).

(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; y[0 .. n) += scale * x[0 .. n), both float64. Four lanes, then two, then one.
  (func $axpy (param $y i32) (param $x i32) (param $scale f64) (param $n i32)
    (local $end i32) (local $scales v128)
    (local.set $scales (f64x2.splat (local.get $scale)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4))
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
    (if (i32.and (local.get $n) (i32.const 2))
      (then
        (v128.store (local.get $y)
          (f64x2.add (v128.load (local.get $y))
                     (f64x2.mul (local.get $scales) (v128.load (local.get $x)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (f64.store (local.get $y)
          (f64.add (f64.load (local.get $y))
                   (f64.mul (local.get $scale) (f64.load (local.get $x))))))))

  ;; y[0 .. n) += scale * x[0 .. n), y float64, x float32 (widened exactly). Two lanes, then one.
  (func $axpySingle (param $y i32) (param $x i32) (param $scale f64) (param $n i32)
    (local $end i32) (local $scales v128)
    (local.set $scales (f64x2.splat (local.get $scale)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -2))
                                                     (i32.const 2))))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store (local.get $y)
          (f64x2.add (v128.load (local.get $y))
            (f64x2.mul (local.get $scales)
              (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))))))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (f64.store (local.get $y)
          (f64.add (f64.load (local.get $y))
            (f64.mul (local.get $scale) (f64.promote_f32 (f32.load (local.get $x)))))))))

  ;; Per-row state of solveRows, for the helpers below (globals are per instance: per thread).
  (global $played (mut i32) (i32.const 0))
  (global $weight (mut i32) (i32.const 0))
  (global $onePlus (mut i32) (i32.const 0))
  (global $predictions (mut i32) (i32.const 0))
  (global $bases (mut i32) (i32.const 0))
  (global $gramTimesRow (mut i32) (i32.const 0))
  (global $row (mut i32) (i32.const 0))
  (global $curvatures (mut i32) (i32.const 0))
  (global $gram (mut i32) (i32.const 0))
  (global $k (mut i32) (i32.const 0))
  (global $entries (mut i32) (i32.const 0))
  (global $l2 (mut f64) (f64.const 0))
  (global $largestChange (mut f64) (f64.const 0))
  (global $largestValue (mut f64) (f64.const 0))

  ;; g_j = (G f)_j + l2 f_j + sum_i y_ij (w_i e_i - (1 + w_i)), in order.
  (func $gradientOf (param $j i32) (result f64)
    (local $gradient f64) (local $column i32) (local $i i32) (local $at i32) (local $entries i32)
    (local.set $entries (global.get $entries))
    (local.set $column (i32.add (global.get $played)
      (i32.shl (i32.mul (local.get $j) (local.get $entries)) (i32.const 3))))
    (local.set $gradient (f64.add
      (f64.load (i32.add (global.get $gramTimesRow) (i32.shl (local.get $j) (i32.const 3))))
      (f64.mul (global.get $l2)
        (f64.load (i32.add (global.get $row) (i32.shl (local.get $j) (i32.const 3)))))))
    (block $done
      (loop $entriesLoop
        (br_if $done (i32.ge_u (local.get $i) (local.get $entries)))
        (local.set $at (i32.shl (local.get $i) (i32.const 3)))
        (local.set $gradient (f64.add (local.get $gradient)
          (f64.mul
            (f64.load (i32.add (local.get $column) (local.get $at)))
            (f64.sub
              (f64.mul (f64.load (i32.add (global.get $weight) (local.get $at)))
                       (f64.load (i32.add (global.get $predictions) (local.get $at))))
              (f64.load (i32.add (global.get $onePlus) (local.get $at)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $entriesLoop)))
    (local.get $gradient))

  ;; Moves coordinate j to max(0, f_j - g_j / c_j) given its gradient, keeping G f and e current
  ;; and the sweep's largest change and value. Returns 1 if f_j changed, else 0.
  (func $move (param $j i32) (param $gradient f64) (result i32)
    (local $curvature f64) (local $value f64) (local $next f64) (local $change f64)
    (local.set $curvature
      (f64.load (i32.add (global.get $curvatures) (i32.shl (local.get $j) (i32.const 3)))))
    (if (i32.eqz (f64.gt (local.get $curvature) (f64.const 0))) (then (return (i32.const 0))))
    (local.set $value (f64.load (i32.add (global.get $row) (i32.shl (local.get $j) (i32.const 3)))))
    (local.set $next (f64.max (f64.const 0)
      (f64.sub (local.get $value) (f64.div (local.get $gradient) (local.get $curvature)))))
    (local.set $change (f64.sub (local.get $next) (local.get $value)))
    (if (f64.gt (local.get $next) (global.get $largestValue))
      (then (global.set $largestValue (local.get $next))))
    (if (f64.eq (local.get $change) (f64.const 0)) (then (return (i32.const 0))))
    (if (f64.gt (f64.abs (local.get $change)) (global.get $largestChange))
      (then (global.set $largestChange (f64.abs (local.get $change)))))
    (f64.store (i32.add (global.get $row) (i32.shl (local.get $j) (i32.const 3))) (local.get $next))
    (call $axpy (global.get $gramTimesRow)
      (i32.add (global.get $gram) (i32.shl (i32.mul (local.get $j) (global.get $k)) (i32.const 3)))
      (local.get $change) (global.get $k))
    (call $axpy (global.get $predictions)
      (i32.add (global.get $played)
        (i32.shl (i32.mul (local.get $j) (global.get $entries)) (i32.const 3)))
      (local.get $change) (global.get $entries))
    (i32.const 1))

  ;; One sweep over the coordinates. Four at a time, the gradients are formed together (one
  ;; lane each, every lane in the scalar order) as if no coordinate of the four moved; a lane is
  ;; used only while that holds, and after a move the remaining ones are formed again, alone.
  ;; Most coordinates sit at 0 and stay there, so most lanes are used.
  (func $sweep
    (local $j i32) (local $k i32) (local $i i32) (local $at i32) (local $entries i32)
    (local $from i32) (local $first v128) (local $second v128) (local $scale v128)
    (local $l2s v128) (local $moved i32)
    (local.set $k (global.get $k))
    (local.set $entries (global.get $entries))
    (local.set $l2s (f64x2.splat (global.get $l2)))
    (block $done
      (loop $blocks
        (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $k)))
        (local.set $at (i32.shl (local.get $j) (i32.const 3)))
        (local.set $first (f64x2.add
          (v128.load (i32.add (global.get $gramTimesRow) (local.get $at)))
          (f64x2.mul (local.get $l2s) (v128.load (i32.add (global.get $row) (local.get $at))))))
        (local.set $second (f64x2.add
          (v128.load offset=16 (i32.add (global.get $gramTimesRow) (local.get $at)))
          (f64x2.mul (local.get $l2s)
            (v128.load offset=16 (i32.add (global.get $row) (local.get $at))))))
        (local.set $i (i32.const 0))
        (block $entriesDone
          (loop $entriesLoop
            (br_if $entriesDone (i32.ge_u (local.get $i) (local.get $entries)))
            (local.set $at (i32.shl (local.get $i) (i32.const 3)))
            (local.set $scale (f64x2.splat
              (f64.sub
                (f64.mul (f64.load (i32.add (global.get $weight) (local.get $at)))
                         (f64.load (i32.add (global.get $predictions) (local.get $at))))
                (f64.load (i32.add (global.get $onePlus) (local.get $at))))))
            (local.set $from (i32.add
              (i32.load (i32.add (global.get $bases) (i32.shl (local.get $i) (i32.const 2))))
              (i32.shl (local.get $j) (i32.const 2))))
            (local.set $first (f64x2.add (local.get $first)
              (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $from)))
                         (local.get $scale))))
            (local.set $second (f64x2.add (local.get $second)
              (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $from)))
                         (local.get $scale))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $entriesLoop)))
        (local.set $moved (call $move (local.get $j) (f64x2.extract_lane 0 (local.get $first))))
        (local.set $at (i32.add (local.get $j) (i32.const 1)))
        (local.set $moved (i32.or (local.get $moved)
          (call $move (local.get $at)
            (if (result f64) (local.get $moved)
              (then (call $gradientOf (local.get $at)))
              (else (f64x2.extract_lane 1 (local.get $first)))))))
        (local.set $at (i32.add (local.get $j) (i32.const 2)))
        (local.set $moved (i32.or (local.get $moved)
          (call $move (local.get $at)
            (if (result f64) (local.get $moved)
              (then (call $gradientOf (local.get $at)))
              (else (f64x2.extract_lane 0 (local.get $second)))))))
        (local.set $at (i32.add (local.get $j) (i32.const 3)))
        (drop (call $move (local.get $at)
          (if (result f64) (local.get $moved)
            (then (call $gradientOf (local.get $at)))
            (else (f64x2.extract_lane 1 (local.get $second))))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $blocks)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $j) (local.get $k)))
        (drop (call $move (local.get $j) (call $gradientOf (local.get $j))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail))))

  ;; c_j = G_jj + l2 + sum_i (w_i y_ij) y_ij for every j, in i order; two lanes at a time.
  (func $curvatures
    (local $j i32) (local $k i32) (local $i i32) (local $at i32) (local $entries i32)
    (local $sum v128) (local $y v128) (local $scale v128) (local $value f64)
    (local.set $k (global.get $k))
    (local.set $entries (global.get $entries))
    (block $done
      (loop $coordinates
        (br_if $done (i32.ge_u (local.get $j) (local.get $k)))
        (f64.store (i32.add (global.get $curvatures) (i32.shl (local.get $j) (i32.const 3)))
          (f64.add
            (f64.load (i32.add (global.get $gram)
              (i32.shl (i32.mul (local.get $j) (i32.add (local.get $k) (i32.const 1)))
                       (i32.const 3))))
            (global.get $l2)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $coordinates)))
    (local.set $j (i32.const 0))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $k)))
        (local.set $sum (v128.load
          (i32.add (global.get $curvatures) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $i (i32.const 0))
        (block $entriesDone
          (loop $entriesLoop
            (br_if $entriesDone (i32.ge_u (local.get $i) (local.get $entries)))
            (local.set $scale (f64x2.splat
              (f64.load (i32.add (global.get $weight) (i32.shl (local.get $i) (i32.const 3))))))
            (local.set $y (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add
              (i32.load (i32.add (global.get $bases) (i32.shl (local.get $i) (i32.const 2))))
              (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $sum (f64x2.add (local.get $sum)
              (f64x2.mul (f64x2.mul (local.get $scale) (local.get $y)) (local.get $y))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $entriesLoop)))
        (v128.store (i32.add (global.get $curvatures) (i32.shl (local.get $j) (i32.const 3)))
          (local.get $sum))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pairs)))
    ;; An odd k leaves one coordinate.
    (if (i32.lt_u (local.get $j) (local.get $k))
      (then
        (local.set $at (i32.add (global.get $curvatures) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $i (i32.const 0))
        (block $lastDone
          (loop $last
            (br_if $lastDone (i32.ge_u (local.get $i) (local.get $entries)))
            (local.set $value (f64.promote_f32 (f32.load (i32.add
              (i32.load (i32.add (global.get $bases) (i32.shl (local.get $i) (i32.const 2))))
              (i32.shl (local.get $j) (i32.const 2))))))
            (f64.store (local.get $at) (f64.add (f64.load (local.get $at))
              (f64.mul
                (f64.mul
                  (f64.load (i32.add (global.get $weight) (i32.shl (local.get $i) (i32.const 3))))
                  (local.get $value))
                (local.get $value))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $last))))))

  ;; Rows [start, end) of `factors`, each solved as `RowSolver.solve` does (see the top).
  (func (export "solveRows")
    (param $rowPointers i32) (param $columnIndices i32) (param $values i32)
    (param $factors i32) (param $other i32) (param $gram i32) (param $k i32)
    (param $start i32) (param $end i32) (param $alpha f64) (param $l2 f64) (param $sweeps i32)
    (param $scratch i32) (param $maxEntries i32)
    (local $played i32) (local $row i32) (local $r i32) (local $from i32) (local $entries i32)
    (local $rowBase i32) (local $i i32) (local $t i32) (local $base i32) (local $sweep i32)
    (local $w f64) (local $sum f64) (local $value f64) (local $kBytes i32)

    ;; Scratch layout (float64 slots; the bases, int32, take maxEntries slots).
    (local.set $kBytes (i32.shl (local.get $k) (i32.const 3)))
    (local.set $played (local.get $scratch))
    (global.set $played (local.get $played))
    (global.set $weight (i32.add (local.get $played)
      (i32.shl (i32.mul (local.get $k) (local.get $maxEntries)) (i32.const 3))))
    (global.set $onePlus
      (i32.add (global.get $weight) (i32.shl (local.get $maxEntries) (i32.const 3))))
    (global.set $predictions
      (i32.add (global.get $onePlus) (i32.shl (local.get $maxEntries) (i32.const 3))))
    (global.set $bases
      (i32.add (global.get $predictions) (i32.shl (local.get $maxEntries) (i32.const 3))))
    (global.set $gramTimesRow
      (i32.add (global.get $bases) (i32.shl (local.get $maxEntries) (i32.const 3))))
    (local.set $row (i32.add (global.get $gramTimesRow) (local.get $kBytes)))
    (global.set $row (local.get $row))
    (global.set $curvatures (i32.add (local.get $row) (local.get $kBytes)))
    (global.set $gram (local.get $gram))
    (global.set $k (local.get $k))
    (global.set $l2 (local.get $l2))

    (local.set $r (local.get $start))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $end)))
        (local.set $from
          (i32.load (i32.add (local.get $rowPointers) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $entries
          (i32.sub
            (i32.load offset=4
              (i32.add (local.get $rowPointers) (i32.shl (local.get $r) (i32.const 2))))
            (local.get $from)))
        (global.set $entries (local.get $entries))
        (local.set $rowBase (i32.add (local.get $factors)
          (i32.shl (i32.mul (local.get $r) (local.get $k)) (i32.const 2))))

        ;; f in float64.
        (local.set $t (i32.const 0))
        (block $copyDone
          (loop $copy
            (br_if $copyDone (i32.ge_u (local.get $t) (local.get $k)))
            (f64.store (i32.add (local.get $row) (i32.shl (local.get $t) (i32.const 3)))
              (f64.promote_f32
                (f32.load (i32.add (local.get $rowBase) (i32.shl (local.get $t) (i32.const 2))))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $copy)))

        ;; Gather: played row i at component t into played[t entries + i], its byte offset in
        ;; `other`, w_i, 1 + w_i and e_i.
        (local.set $i (i32.const 0))
        (block $gatherDone
          (loop $gather
            (br_if $gatherDone (i32.ge_u (local.get $i) (local.get $entries)))
            (local.set $base (i32.add (local.get $other)
              (i32.shl
                (i32.mul
                  (i32.load (i32.add (local.get $columnIndices)
                    (i32.shl (i32.add (local.get $from) (local.get $i)) (i32.const 2))))
                  (local.get $k))
                (i32.const 2))))
            (i32.store (i32.add (global.get $bases) (i32.shl (local.get $i) (i32.const 2)))
              (local.get $base))
            (local.set $w (f64.mul (local.get $alpha)
              (f64.promote_f32 (f32.load (i32.add (local.get $values)
                (i32.shl (i32.add (local.get $from) (local.get $i)) (i32.const 2)))))))
            (f64.store (i32.add (global.get $weight) (i32.shl (local.get $i) (i32.const 3)))
              (local.get $w))
            (f64.store (i32.add (global.get $onePlus) (i32.shl (local.get $i) (i32.const 3)))
              (f64.add (f64.const 1) (local.get $w)))
            (local.set $sum (f64.const 0))
            (local.set $t (i32.const 0))
            (block $componentsDone
              (loop $components
                (br_if $componentsDone (i32.ge_u (local.get $t) (local.get $k)))
                (local.set $value (f64.promote_f32
                  (f32.load (i32.add (local.get $base) (i32.shl (local.get $t) (i32.const 2))))))
                (f64.store
                  (i32.add (local.get $played)
                    (i32.shl (i32.add (i32.mul (local.get $t) (local.get $entries)) (local.get $i))
                             (i32.const 3)))
                  (local.get $value))
                (local.set $sum (f64.add (local.get $sum)
                  (f64.mul (local.get $value)
                    (f64.load (i32.add (local.get $row) (i32.shl (local.get $t) (i32.const 3)))))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $components)))
            (f64.store (i32.add (global.get $predictions) (i32.shl (local.get $i) (i32.const 3)))
              (local.get $sum))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $gather)))

        ;; G f = sum over s of f_s G_s, zero terms skipped (see the top).
        (memory.fill (global.get $gramTimesRow) (i32.const 0) (local.get $kBytes))
        (local.set $t (i32.const 0))
        (block $productDone
          (loop $product
            (br_if $productDone (i32.ge_u (local.get $t) (local.get $k)))
            (local.set $value
              (f64.load (i32.add (local.get $row) (i32.shl (local.get $t) (i32.const 3)))))
            (if (f64.ne (local.get $value) (f64.const 0))
              (then
                (call $axpy (global.get $gramTimesRow)
                  (i32.add (local.get $gram) (i32.mul (local.get $t) (local.get $kBytes)))
                  (local.get $value) (local.get $k))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $product)))

        (call $curvatures)

        ;; Sweeps, until `sweeps` or one that moves no coordinate.
        (local.set $sweep (i32.const 0))
        (block $sweepsDone
          (loop $sweepLoop
            (br_if $sweepsDone (i32.ge_s (local.get $sweep) (local.get $sweeps)))
            (local.set $sweep (i32.add (local.get $sweep) (i32.const 1)))
            (global.set $largestChange (f64.const 0))
            (global.set $largestValue (f64.const 0))
            (call $sweep)
            (br_if $sweepsDone (f64.le (global.get $largestChange)
              (f64.mul (f64.const 0) (global.get $largestValue))))
            (br $sweepLoop)))

        ;; f back in float32.
        (local.set $t (i32.const 0))
        (block $storeDone
          (loop $store
            (br_if $storeDone (i32.ge_u (local.get $t) (local.get $k)))
            (f32.store (i32.add (local.get $rowBase) (i32.shl (local.get $t) (i32.const 2)))
              (f32.demote_f64
                (f64.load (i32.add (local.get $row) (i32.shl (local.get $t) (i32.const 3))))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $store)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; Rows [from, to) of the upper triangle of F^T F (F: rows x k float32) into out (k x k
  ;; float64), zeroed first: for each row of F in order, out_ts += f_t f_s for s >= t.
  (func (export "gramRows")
    (param $factors i32) (param $rows i32) (param $k i32) (param $from i32) (param $to i32)
    (param $out i32)
    (local $r i32) (local $t i32) (local $base i32) (local $f f64)
    (memory.fill
      (i32.add (local.get $out) (i32.shl (i32.mul (local.get $from) (local.get $k)) (i32.const 3)))
      (i32.const 0)
      (i32.shl (i32.mul (i32.sub (local.get $to) (local.get $from)) (local.get $k)) (i32.const 3)))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $base (i32.add (local.get $factors)
          (i32.shl (i32.mul (local.get $r) (local.get $k)) (i32.const 2))))
        (local.set $t (local.get $from))
        (block $entriesDone
          (loop $entries
            (br_if $entriesDone (i32.ge_u (local.get $t) (local.get $to)))
            (local.set $f (f64.promote_f32
              (f32.load (i32.add (local.get $base) (i32.shl (local.get $t) (i32.const 2))))))
            (if (f64.ne (local.get $f) (f64.const 0))
              (then
                (call $axpySingle
                  (i32.add (local.get $out)
                    (i32.shl (i32.add (i32.mul (local.get $t) (local.get $k)) (local.get $t))
                             (i32.const 3)))
                  (i32.add (local.get $base) (i32.shl (local.get $t) (i32.const 2)))
                  (local.get $f)
                  (i32.sub (local.get $k) (local.get $t)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $entries)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowsLoop))))
)
