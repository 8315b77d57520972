// Helpers for component tests of Element Plus forms in dialogs, which are
// teleported out of the mounted wrapper: set a field by its data-testid and
// click a button found in the document.
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { ElInput, ElSelect } from 'element-plus'

/** Sets an Element Plus input or select by its data-testid. */
export async function setField(w: VueWrapper, testid: string, value: string) {
  const c = [...w.findAllComponents(ElInput), ...w.findAllComponents(ElSelect)].find(
    (x) => x.attributes('data-testid') === testid || x.vm.$attrs['data-testid'] === testid,
  )
  if (!c) throw new Error(`no field ${testid}`)
  c.vm.$emit('update:modelValue', value)
  await flushPromises()
}

/** The first element of the document matching sel. */
export const $ = (sel: string) => document.body.querySelector<HTMLElement>(sel)

/** Clicks the element matching sel and waits for form items to show their errors (debounced 100 ms). */
export async function click(sel: string) {
  const el = $(sel)
  if (!el) throw new Error(`nothing matches ${sel}`)
  el.click()
  await flushPromises()
  await new Promise((r) => setTimeout(r, 150))
}

/** The error shown under the form item whose label starts with label, inside the element matching form. */
export function fieldError(form: string, label: string): string | undefined {
  const item = [...document.body.querySelectorAll(`${form} .el-form-item`)].find((i) => i.querySelector('.el-form-item__label')?.textContent?.startsWith(label))
  return item?.querySelector('.el-form-item__error')?.textContent?.trim()
}
