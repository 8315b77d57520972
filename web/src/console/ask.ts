// Asking before a step, in Element Plus's message box: a required reason
// (停用, 驳回, 解除绑定 …) or a confirmation (收回, 移除, 停用). Both answer
// null / false when the user cancels.
import { ElMessageBox } from 'element-plus'
import { t } from '@/locales/zh-CN.console'

/** A reason the user must give (trimmed), or null when cancelled. */
export async function askReason(o: { title: string; message: string; confirm: string; error?: string }): Promise<string | null> {
  try {
    const { value } = await ElMessageBox.prompt(o.message, o.title, {
      inputValidator: (v) => !!v?.trim(),
      inputErrorMessage: o.error ?? o.message,
      confirmButtonText: o.confirm,
      cancelButtonText: t.desk.cancel,
    })
    return value.trim()
  } catch {
    return null
  }
}

/** Whether the user confirms a step that takes effect at once. */
export async function confirmStep(o: { title: string; message: string; confirm: string }): Promise<boolean> {
  try {
    await ElMessageBox.confirm(o.message, o.title, { type: 'warning', confirmButtonText: o.confirm, cancelButtonText: t.desk.cancel })
    return true
  } catch {
    return false
  }
}
