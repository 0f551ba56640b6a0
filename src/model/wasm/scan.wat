;; Row scans: out[i] = sum_c matrix[i, c] * vector[c] for every row i of a row-major float32
;; matrix, in two precisions.
;;
;; rowDots        products and sums in float64 (the matrix entries are widened exactly, so the
;;                result is the float64 dot product up to summation order, like a plain-JS loop).
;;                For scores that are compared with float64 arithmetic elsewhere (fold-in).
;; rowDotsSingle  products and sums in float32, stored as float64: relative error about 1e-7
;;                (k = 128, unit rows). For ranking only (the /similar scan), about twice as fast.
;;
;; Memory (imported as env.memory, owned by src/model/wasm/kernels.ts; byte offsets, any
;; alignment works but 16 is fastest):
;;   matrix  rows x columns float32, row-major, contiguous
;;   vector  columns float64 (rowDots) or float32 (rowDotsSingle; may be a row of the matrix)
;;   out     rows float64 (written)
;;
;; Cost: rows x columns multiply-adds. rowDots does two float64 lanes at a time: per 4 columns one
;; 128-bit load of the matrix, two widenings (f64x2.promote_low_f32x4, the high half after a byte
;; shuffle), two vector loads (L1-resident), two f64x2 multiplies and adds; four accumulators per
;; row (8 columns a step) hide the add latency: about 0.7 ms at 17,632 x 128. rowDotsSingle does
;; four float32 lanes: per 4 columns two loads, one f32x4 multiply and add, 16 columns a step:
;; about 0.4 ms there, where the 9 MB matrix streams from memory at about 20 GB/s.
(module
  (import "env" "memory" (memory 1))

  (func (export "rowDots")
    (param $matrix i32) (param $rows i32) (param $columns i32) (param $vector i32) (param $out i32)
    (local $row i32)
    (local $m i32)        ;; address of the current matrix entry
    (local $v i32)        ;; address of the matching vector entry
    (local $end8 i32)     ;; address in the row where the 8-column steps stop
    (local $end4 i32)     ;; ... where the 4-column step stops
    (local $rowEnd i32)   ;; address one past the row
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $quad v128)    ;; 4 matrix entries
    (local $sum f64)

    (local.set $m (local.get $matrix))
    (block $done
      (loop $rowLoop
        (br_if $done (i32.ge_u (local.get $row) (local.get $rows)))

        ;; Row bounds, in bytes of float32.
        (local.set $rowEnd (i32.add (local.get $m) (i32.shl (local.get $columns) (i32.const 2))))
        (local.set $end8
          (i32.add (local.get $m) (i32.shl (i32.and (local.get $columns) (i32.const -8))
                                           (i32.const 2))))
        (local.set $end4
          (i32.add (local.get $m) (i32.shl (i32.and (local.get $columns) (i32.const -4))
                                           (i32.const 2))))
        (local.set $v (local.get $vector))
        (local.set $acc0 (v128.const i64x2 0 0))
        (local.set $acc1 (v128.const i64x2 0 0))
        (local.set $acc2 (v128.const i64x2 0 0))
        (local.set $acc3 (v128.const i64x2 0 0))

        ;; 8 columns a step: two quads, each widened to two f64x2 halves.
        (block $end8Reached
          (loop $step8
            (br_if $end8Reached (i32.ge_u (local.get $m) (local.get $end8)))
            (local.set $quad (v128.load (local.get $m)))
            (local.set $acc0 (f64x2.add (local.get $acc0)
              (f64x2.mul (f64x2.promote_low_f32x4 (local.get $quad))
                         (v128.load (local.get $v)))))
            (local.set $acc1 (f64x2.add (local.get $acc1)
              (f64x2.mul (f64x2.promote_low_f32x4
                           (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                             (local.get $quad) (local.get $quad)))
                         (v128.load offset=16 (local.get $v)))))
            (local.set $quad (v128.load offset=16 (local.get $m)))
            (local.set $acc2 (f64x2.add (local.get $acc2)
              (f64x2.mul (f64x2.promote_low_f32x4 (local.get $quad))
                         (v128.load offset=32 (local.get $v)))))
            (local.set $acc3 (f64x2.add (local.get $acc3)
              (f64x2.mul (f64x2.promote_low_f32x4
                           (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                             (local.get $quad) (local.get $quad)))
                         (v128.load offset=48 (local.get $v)))))
            (local.set $m (i32.add (local.get $m) (i32.const 32)))
            (local.set $v (i32.add (local.get $v) (i32.const 64)))
            (br $step8)))

        ;; One more quad when 4 columns or more remain.
        (if (i32.lt_u (local.get $m) (local.get $end4))
          (then
            (local.set $quad (v128.load (local.get $m)))
            (local.set $acc0 (f64x2.add (local.get $acc0)
              (f64x2.mul (f64x2.promote_low_f32x4 (local.get $quad))
                         (v128.load (local.get $v)))))
            (local.set $acc1 (f64x2.add (local.get $acc1)
              (f64x2.mul (f64x2.promote_low_f32x4
                           (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                             (local.get $quad) (local.get $quad)))
                         (v128.load offset=16 (local.get $v)))))
            (local.set $m (i32.add (local.get $m) (i32.const 16)))
            (local.set $v (i32.add (local.get $v) (i32.const 32)))))

        ;; Fold the lanes, then the last 0 to 3 columns one at a time.
        (local.set $acc0 (f64x2.add (f64x2.add (local.get $acc0) (local.get $acc1))
                                    (f64x2.add (local.get $acc2) (local.get $acc3))))
        (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $acc0))
                                 (f64x2.extract_lane 1 (local.get $acc0))))
        (block $rowDone
          (loop $tail
            (br_if $rowDone (i32.ge_u (local.get $m) (local.get $rowEnd)))
            (local.set $sum (f64.add (local.get $sum)
              (f64.mul (f64.promote_f32 (f32.load (local.get $m))) (f64.load (local.get $v)))))
            (local.set $m (i32.add (local.get $m) (i32.const 4)))
            (local.set $v (i32.add (local.get $v) (i32.const 8)))
            (br $tail)))

        (f64.store
          (i32.add (local.get $out) (i32.shl (local.get $row) (i32.const 3)))
          (local.get $sum))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rowLoop))))

  (func (export "rowDotsSingle")
    (param $matrix i32) (param $rows i32) (param $columns i32) (param $vector i32) (param $out i32)
    (local $row i32)
    (local $m i32)        ;; address of the current matrix entry
    (local $v i32)        ;; address of the matching vector entry
    (local $end16 i32)    ;; address in the row where the 16-column steps stop
    (local $end4 i32)     ;; ... where the 4-column steps stop
    (local $rowEnd i32)   ;; address one past the row
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $sum f32)

    (local.set $m (local.get $matrix))
    (block $done
      (loop $rowLoop
        (br_if $done (i32.ge_u (local.get $row) (local.get $rows)))

        ;; Row bounds, in bytes of float32.
        (local.set $rowEnd (i32.add (local.get $m) (i32.shl (local.get $columns) (i32.const 2))))
        (local.set $end16
          (i32.add (local.get $m) (i32.shl (i32.and (local.get $columns) (i32.const -16))
                                           (i32.const 2))))
        (local.set $end4
          (i32.add (local.get $m) (i32.shl (i32.and (local.get $columns) (i32.const -4))
                                           (i32.const 2))))
        (local.set $v (local.get $vector))
        (local.set $acc0 (v128.const i64x2 0 0))
        (local.set $acc1 (v128.const i64x2 0 0))
        (local.set $acc2 (v128.const i64x2 0 0))
        (local.set $acc3 (v128.const i64x2 0 0))

        ;; 16 columns a step, one quad per accumulator.
        (block $end16Reached
          (loop $step16
            (br_if $end16Reached (i32.ge_u (local.get $m) (local.get $end16)))
            (local.set $acc0 (f32x4.add (local.get $acc0)
              (f32x4.mul (v128.load (local.get $m)) (v128.load (local.get $v)))))
            (local.set $acc1 (f32x4.add (local.get $acc1)
              (f32x4.mul (v128.load offset=16 (local.get $m)) (v128.load offset=16 (local.get $v)))))
            (local.set $acc2 (f32x4.add (local.get $acc2)
              (f32x4.mul (v128.load offset=32 (local.get $m)) (v128.load offset=32 (local.get $v)))))
            (local.set $acc3 (f32x4.add (local.get $acc3)
              (f32x4.mul (v128.load offset=48 (local.get $m)) (v128.load offset=48 (local.get $v)))))
            (local.set $m (i32.add (local.get $m) (i32.const 64)))
            (local.set $v (i32.add (local.get $v) (i32.const 64)))
            (br $step16)))

        ;; Then whole quads.
        (block $end4Reached
          (loop $step4
            (br_if $end4Reached (i32.ge_u (local.get $m) (local.get $end4)))
            (local.set $acc0 (f32x4.add (local.get $acc0)
              (f32x4.mul (v128.load (local.get $m)) (v128.load (local.get $v)))))
            (local.set $m (i32.add (local.get $m) (i32.const 16)))
            (local.set $v (i32.add (local.get $v) (i32.const 16)))
            (br $step4)))

        ;; Fold the lanes, then the last 0 to 3 columns one at a time.
        (local.set $acc0 (f32x4.add (f32x4.add (local.get $acc0) (local.get $acc1))
                                    (f32x4.add (local.get $acc2) (local.get $acc3))))
        (local.set $sum
          (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc0))
                            (f32x4.extract_lane 1 (local.get $acc0)))
                   (f32.add (f32x4.extract_lane 2 (local.get $acc0))
                            (f32x4.extract_lane 3 (local.get $acc0)))))
        (block $rowDone
          (loop $tail
            (br_if $rowDone (i32.ge_u (local.get $m) (local.get $rowEnd)))
            (local.set $sum (f32.add (local.get $sum)
              (f32.mul (f32.load (local.get $m)) (f32.load (local.get $v)))))
            (local.set $m (i32.add (local.get $m) (i32.const 4)))
            (local.set $v (i32.add (local.get $v) (i32.const 4)))
            (br $tail)))

        (f64.store
          (i32.add (local.get $out) (i32.shl (local.get $row) (i32.const 3)))
          (f64.promote_f32 (local.get $sum)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rowLoop)))))
