/**
 * "Try it" for image models: upload a picture, the browser decodes it (createImageBitmap), draws it
 * at the model's input size on a canvas, keeps one gray channel for 1-channel models, and asks the
 * node for the class probabilities under the project's current global model (`model.classify`).
 * Renders nothing for a project whose model takes no images (`model.imageInput` is null).
 */
import { useEffect, useId, useState } from 'react'
import type { MethodResult, ProjectSummary } from '../../../core/api/contract'
import { formatPercent } from '../format'
import { useAction, useController } from '../state/context'
import { ErrorNote } from './ErrorNote'

type ImageInput = NonNullable<MethodResult<'model.imageInput'>>

/** Decodes an image file to row-major H·W·C intensities 0..255 at the model's input size. */
export async function imagePixels(file: Blob, input: ImageInput): Promise<number[]> {
  const bitmap = await createImageBitmap(file)
  const canvas = document.createElement('canvas')
  canvas.width = input.width
  canvas.height = input.height
  const ctx = canvas.getContext('2d')
  if (!ctx) throw new Error('this browser cannot draw images')
  // Transparent areas read as black, as MNIST-style digits (light on dark) expect.
  ctx.fillStyle = '#000'
  ctx.fillRect(0, 0, input.width, input.height)
  ctx.drawImage(bitmap, 0, 0, input.width, input.height)
  bitmap.close()
  const rgba = ctx.getImageData(0, 0, input.width, input.height).data
  const out: number[] = []
  for (let i = 0; i < rgba.length; i += 4) {
    const [r, g, b, a] = [rgba[i]!, rgba[i + 1]!, rgba[i + 2]!, rgba[i + 3]!]
    if (input.channels === 1) out.push(Math.round(0.299 * r + 0.587 * g + 0.114 * b))
    else if (input.channels === 3) out.push(r, g, b)
    else out.push(r, g, b, a)
  }
  return out
}

export function ImageTryIt({ project: p }: { project: ProjectSummary }) {
  const controller = useController()
  const id = useId()
  const [input, setInput] = useState<ImageInput | null>(null)
  const [result, setResult] = useState<MethodResult<'model.classify'> | null>(null)
  const [load, loadState] = useAction(async () => {
    setInput(await controller.call('model.imageInput', { project: p.key }))
  })
  useEffect(() => {
    void load()
  }, [load, p.key])
  const [run, state] = useAction(async (file: File) => {
    if (!input) return
    const pixels = await imagePixels(file, input)
    setResult(await controller.call('model.classify', { project: p.key, pixels, top: 3 }))
  })
  if (loadState.error)
    return (
      <section className="try-it" aria-label="Try the model" data-testid="try-it-image">
        <ErrorNote error={loadState.error} />
      </section>
    )
  if (!input) return null
  return (
    <section className="try-it" aria-label="Try the model" data-testid="try-it-image">
      <h4>Try it</h4>
      <label htmlFor={id}>
        Classify an image (scaled to {input.width}×{input.height}
        {input.channels === 1 ? ', gray' : ''})
      </label>
      <input
        id={id}
        type="file"
        accept="image/*"
        disabled={state.pending}
        onChange={(e) => {
          const file = e.target.files?.[0]
          if (file) void run(file)
        }}
      />
      {state.error ? <ErrorNote error={state.error} /> : null}
      {result ? (
        <ol data-testid="try-it-classes" data-round={result.round}>
          {result.top.map((c) => (
            <li key={c.index} data-class={c.index}>
              {c.label ?? `Class ${c.index}`}: {formatPercent(c.probability)}
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  )
}
